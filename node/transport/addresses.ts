/**
 * IP address forms, in one place.
 *
 * A node listens on "::" by default, a dual-stack socket: an IPv4 peer then
 * arrives as "::ffff:192.0.2.7". That form must never be published, compared
 * with a plain IPv4 address or logged, so every remote address is passed
 * through unmapIPv4 where it enters the node (accepted sockets, QUIC remotes,
 * the address a peer says it sees us at, UDP endpoints a peer names).
 *
 * publishableInterfaceAddress decides which of the machine's own addresses go
 * into its (sealed) address record.
 */
import type { Endpoint } from "./ssh.ts";

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The four octets of a dotted IPv4 address, or null. */
function ipv4Octets(text: string): number[] | null {
  const m = IPV4.exec(text);
  if (!m) return null;
  const octets = m.slice(1, 5).map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

/**
 * The 16 bytes of an IPv6 address in any textual form ("::", embedded IPv4,
 * upper case), or null when `text` is not one. A zone ("%eth0") is ignored.
 */
function ipv6Bytes(text: string): Uint8Array | null {
  const host = text.replace(/%[^%]*$/, "");
  if (host.length > 45 || !host.includes(":")) return null;
  const halves = host.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      const v4 = i === pieces.length - 1 ? ipv4Octets(p) : null;
      if (v4) {
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 255;
  });
  return bytes;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), or null. */
function mappedIPv4(bytes: Uint8Array): string | null {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return null;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return null;
  return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
}

/**
 * "::ffff:192.0.2.7" (in any spelling, e.g. "::FFFF:c000:0207") becomes
 * "192.0.2.7"; any other host is returned unchanged.
 *
 * @example
 * ```ts
 * unmapIPv4("::ffff:127.0.0.3"); // "127.0.0.3"
 * unmapIPv4("2001:db8::1"); // "2001:db8::1"
 * ```
 */
export function unmapIPv4(host: string): string {
  if (typeof host !== "string" || !host.includes(":")) return host; // also from untyped JS
  const bytes = ipv6Bytes(host);
  return (bytes && mappedIPv4(bytes)) ?? host;
}

/** `e` with an IPv4-mapped host replaced by the plain IPv4 address. */
export function unmapEndpoint(e: Endpoint): Endpoint {
  const host = unmapIPv4(e.host);
  return host === e.host ? e : { host, port: e.port };
}

/**
 * A "host:port" or "[v6]:port" text with an IPv4-mapped host written as plain
 * "a.b.c.d:port"; anything else (names, malformed text) is returned unchanged.
 */
export function unmapAddress(text: string): string {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text);
  if (!m) return text;
  const host = unmapIPv4(m[1]!);
  return host === m[1] ? text : `${host}:${m[2]}`;
}

/** Whether `host` is an IPv6 literal (an IPv4-mapped one counts as IPv4). */
export function isIPv6(host: string): boolean {
  const bytes = ipv6Bytes(host);
  return bytes !== null && mappedIPv4(bytes) === null;
}

/** Whether a "host:port" text names an IPv6 host, "[2001:db8::1]:7022". */
export function isIPv6Address(text: string): boolean {
  const m = /^\[([0-9a-fA-F:.%\w-]+)\]:\d{1,5}$/.exec(text);
  return m !== null && isIPv6(m[1]!);
}

/**
 * Whether one of the machine's own interface addresses belongs in its
 * address record (which only accepted contacts can open):
 * - IPv4: anything but loopback (127/8), link-local (169.254/16) and 0.0.0.0.
 *   Private ranges stay: a contact on the same LAN reaches us there.
 * - IPv6: global unicast only. Not loopback, unspecified, link-local
 *   (fe80::/10, needs a zone, useless to anyone else), the old site-local
 *   (fec0::/10), multicast, IPv4-mapped or -compatible forms, and not unique
 *   local (fc00::/7): a ULA reaches only the same site, where contacts find
 *   each other by LAN announcements anyway, while its 40-bit global ID is a
 *   stable name for that site that every contact would learn.
 */
export function publishableInterfaceAddress(address: string): boolean {
  const v4 = ipv4Octets(address);
  if (v4) {
    return !(v4[0] === 127 || v4[0] === 0 || (v4[0] === 169 && v4[1] === 254));
  }
  const b = ipv6Bytes(address);
  if (!b || address.includes("%")) return false;
  if (b.slice(0, 12).every((x) => x === 0)) return false; // ::, ::1, ::a.b.c.d
  if (mappedIPv4(b)) return false;
  if (b[0] === 0xff) return false; // multicast
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return false; // fe80::/10
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return false; // fec0::/10
  if ((b[0]! & 0xfe) === 0xfc) return false; // fc00::/7
  return true;
}

/**
 * Whether a bind error means the host has no IPv6 (a kernel booted with
 * ipv6.disable=1: EAFNOSUPPORT; an address not there: EADDRNOTAVAIL, which
 * Deno's node:net reports as EINVAL), so listening on "::" should give way to
 * "0.0.0.0". "Address in use" and "permission denied" are not: 0.0.0.0 would
 * fail the same way, and the first error says why.
 */
export function isNoIPv6Error(err: unknown): boolean {
  const seen: unknown[] = [];
  for (let e = err; e instanceof Error && seen.length < 4; e = e.cause) seen.push(e);
  return seen.some((e) => {
    const { code, name, message } = e as Error & { code?: unknown };
    return ["EAFNOSUPPORT", "EADDRNOTAVAIL", "EPROTONOSUPPORT", "EINVAL"].includes(String(code)) ||
      name === "AddrNotAvailable" ||
      /os error (93|97|99)\)|address family not supported/i.test(message);
  });
}

/** How many IPv6 addresses of the machine go into its record at most (temporary ones pile up). */
export const MAX_PUBLISHED_IPV6 = 4;

/**
 * The machine's addresses to publish, from Deno.networkInterfaces(): every
 * publishable IPv4 one, then, with `ipv6` (listening on "::"; on 0.0.0.0 they
 * would be dead paths), up to MAX_PUBLISHED_IPV6 global IPv6 ones. IPv4 stays
 * first because an invite's addresses are tried one by one (a redeem must not
 * race itself); a record's are dialled IPv6 first (peers/happy_eyeballs).
 */
export function publishableAddresses(
  interfaces: ReadonlyArray<{ readonly family: string; readonly address: string }>,
  ipv6: boolean,
): string[] {
  const ok = interfaces.filter((i) => publishableInterfaceAddress(i.address));
  const v6 = ipv6 ? ok.filter((i) => i.family === "IPv6").slice(0, MAX_PUBLISHED_IPV6) : [];
  return [...ok.filter((i) => i.family === "IPv4"), ...v6]
    .map((i) => i.address)
    .filter((a, i, all) => all.indexOf(a) === i);
}

/**
 * Binds with `bind(host)` (synchronous, or a promise); when `host` is "::" and
 * this machine has no IPv6 (see isNoIPv6Error), binds "0.0.0.0" instead and
 * says so in one log line. Any other failure is thrown as is.
 */
export function bindFallingBackToIPv4<T>(
  host: string,
  bind: (host: string) => T,
  log: (line: string) => void,
  what: string,
): T {
  const fallback = (err: unknown): T => {
    if (host !== "::" || !isNoIPv6Error(err)) throw err;
    log(`no IPv6 here (${(err as Error).message}): ${what} on 0.0.0.0 instead of ::`);
    return bind("0.0.0.0");
  };
  try {
    const bound = bind(host);
    return (bound instanceof Promise ? bound.catch(fallback) : bound) as T;
  } catch (err) {
    return fallback(err);
  }
}
