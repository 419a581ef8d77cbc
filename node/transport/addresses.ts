/**
 * The transport's address forms (parsing and classifying an IP address is
 * node/ip's job; this is what the transport decides with it).
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
import { formatIp, ipKind, isIpv4Mapped, parseIp, unmapIp } from "../ip/mod.ts";
import type { Endpoint } from "./ssh.ts";

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
  const ip = parseIp(host); // null also for a missing host from untyped JS (ssh2)
  return ip && isIpv4Mapped(ip) ? formatIp(unmapIp(ip)) : host;
}

/** `e` with an IPv4-mapped host replaced by the plain IPv4 address. */
export function unmapEndpoint(e: Endpoint): Endpoint {
  const host = unmapIPv4(e.host);
  return host === e.host ? e : { host, port: e.port };
}

/**
 * The endpoint a literal "a.b.c.d:port" or "[v6]:port" names (the host as
 * written, a zone allowed), or null for anything else: host names, a bare
 * IPv6 address without brackets, ports outside 1 to 65535, malformed addresses.
 */
export function parseIpEndpoint(text: string): Endpoint | null {
  if (typeof text !== "string") return null;
  const m = /^\[([^\[\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:\[\]]+):(\d{1,5})$/.exec(text);
  const ip = m && parseIp(m[1]!);
  const port = Number(m?.[2]);
  if (!ip || (ip.family === 6) !== text.startsWith("[") || port < 1 || port > 65535) return null;
  return { host: m![1]!, port };
}

/**
 * A "host:port" or "[v6]:port" text with an IPv4-mapped host written as plain
 * "a.b.c.d:port"; anything else (names, malformed text) is returned unchanged.
 */
export function unmapAddress(text: string): string {
  const e = parseIpEndpoint(text);
  if (!e) return text;
  const host = unmapIPv4(e.host);
  return host === e.host ? text : `${host}:${e.port}`;
}

/** Whether `host` is an IPv6 literal (an IPv4-mapped one counts as IPv4). */
export function isIPv6(host: string): boolean {
  const ip = parseIp(host);
  return ip?.family === 6 && !isIpv4Mapped(ip);
}

/** Whether a "host:port" text names an IPv6 host, "[2001:db8::1]:7022". */
export function isIPv6Address(text: string): boolean {
  const e = parseIpEndpoint(text);
  return e !== null && isIPv6(e.host);
}

/**
 * Whether one of the machine's own interface addresses belongs in its
 * address record (which only accepted contacts can open):
 * - IPv4: anything but loopback (127/8), link-local (169.254/16) and 0/8.
 *   Private ranges stay: a contact on the same LAN reaches us there.
 * - IPv6: global unicast only. Not loopback, unspecified, link-local
 *   (fe80::/10, needs a zone, useless to anyone else), the old site-local
 *   (fec0::/10), multicast, IPv4-mapped or -compatible forms, and not unique
 *   local (fc00::/7): a ULA reaches only the same site, where contacts find
 *   each other by LAN announcements anyway, while its 40-bit global ID is a
 *   stable name for that site that every contact would learn.
 */
export function publishableInterfaceAddress(address: string): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  const kind = ipKind(ip);
  if (ip.family === 4) {
    return kind !== "loopback" && kind !== "unspecified" && kind !== "link-local";
  }
  // "reserved" is unicast outside 2000::/3 (e.g. NAT64): rare on an interface, but reachable.
  return ip.zone === undefined && (kind === "global" || kind === "reserved");
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
