/**
 * IP address literals: the node's one parser and formatter of IPv4 and IPv6
 * text, and the unmapping of IPv4-mapped IPv6 addresses.
 *
 * Addresses reach the node from peers, routers, the OS and the user, and one
 * text must mean one address in every part of it, so the parser is strict:
 * - IPv4 is exactly four decimal octets, 0 to 255, without leading zeros:
 *   "01.2.3.4" is refused because inet_aton and URL parsers read "010" as
 *   octal (8) while others read it as 10. "1.2.3", "1.2.3.", "1.2.3.4.5",
 *   " 1.2.3.4" and "0x1.2.3.4" are refused too.
 * - IPv6 is the RFC 4291 §2.2 text form: eight groups of one to four hex
 *   digits in either case, at most one "::", optionally ending in a dotted
 *   IPv4 address, and optionally a zone ("fe80::1%eth0", RFC 4007 §11).
 * - No brackets, ports, host names or surrounding space: those belong to the
 *   callers that take "host:port" texts.
 */

/** A parsed IP address. Treat `bytes` as read-only: they may be shared. */
export interface IpAddress {
  readonly family: 4 | 6;
  /** 4 (IPv4) or 16 (IPv6) bytes, in network order. */
  readonly bytes: Uint8Array;
  /** The zone of an IPv6 address ("eth0" in "fe80::1%eth0"); undefined for IPv4 and without one. */
  readonly zone: string | undefined;
}

/** The longest IPv6 text is 45 characters; a zone adds at most 65. */
const MAX_TEXT = 45 + 65;
const OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const GROUP = /^[0-9a-fA-F]{1,4}$/;
/** Interface names (Linux: at most 15 of these characters) or a Windows interface number. */
const ZONE = /^[\w.~-]{1,64}$/;

/** The 4 bytes of a strict dotted IPv4 address, or null. */
function ipv4Bytes(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!OCTET.test(part) || Number(part) > 255) return null;
    out[i] = Number(part);
  }
  return out;
}

/**
 * The 16-bit groups of one side of "::" (or of a whole address without one),
 * or null. A dotted IPv4 address may only be the last piece of the address
 * (`endsAddress`), where it stands for two groups.
 */
function ipv6Groups(text: string, endsAddress: boolean): number[] | null {
  if (text === "") return [];
  const pieces = text.split(":");
  const out: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (endsAddress && i === pieces.length - 1 && piece.includes(".")) {
      const v4 = ipv4Bytes(piece);
      if (!v4) return null;
      out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (GROUP.test(piece)) {
      out.push(parseInt(piece, 16));
    } else {
      return null; // empty (":::", a lone leading or trailing ":"), too long, or not hex
    }
  }
  return out;
}

/** The 16 bytes of an IPv6 address without a zone, or null. */
function ipv6Bytes(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const compressed = halves.length === 2;
  const head = ipv6Groups(halves[0]!, !compressed);
  const tail = compressed ? ipv6Groups(halves[1]!, true) : [];
  if (!head || !tail) return null;
  const given = head.length + tail.length;
  // "::" stands for at least one group of zeros.
  if (compressed ? given > 7 : given !== 8) return null;
  const groups = [...head, ...new Array<number>(8 - given).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/**
 * The address `text` names, or null when it is not exactly one IPv4 or IPv6
 * literal (see the module comment for what is refused). Safe on any input,
 * including non-strings from untyped code.
 *
 * @example
 * ```ts
 * parseIp("192.0.2.7");      // { family: 4, bytes: [192, 0, 2, 7], zone: undefined }
 * parseIp("FE80::1%eth0");   // { family: 6, bytes: [0xfe, 0x80, 0, …, 1], zone: "eth0" }
 * parseIp("1.2.3.");         // null
 * parseIp("example.org");    // null
 * ```
 */
export function parseIp(text: string): IpAddress | null {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_TEXT) return null;
  if (!text.includes(":")) {
    const bytes = ipv4Bytes(text);
    return bytes && { family: 4, bytes, zone: undefined };
  }
  const at = text.indexOf("%");
  const zone = at < 0 ? undefined : text.slice(at + 1);
  if (zone !== undefined && !ZONE.test(zone)) return null;
  const bytes = ipv6Bytes(at < 0 ? text : text.slice(0, at));
  return bytes && { family: 6, bytes, zone };
}

/**
 * The address with these 4 or 16 bytes (copied), and for IPv6 an optional zone.
 *
 * @throws {RangeError} for another length, or a zone on IPv4 or not of the parsed form.
 */
export function ipFromBytes(bytes: Uint8Array, zone?: string): IpAddress {
  if (bytes.length !== 4 && bytes.length !== 16) {
    throw new RangeError(`an IP address has 4 or 16 bytes, not ${bytes.length}`);
  }
  if (zone !== undefined && (bytes.length === 4 || !ZONE.test(zone))) {
    throw new RangeError(`bad zone ${JSON.stringify(zone)} for a ${bytes.length}-byte address`);
  }
  return { family: bytes.length === 4 ? 4 : 6, bytes: bytes.slice(), zone };
}

/** Whether `ip` is an IPv4-mapped IPv6 address (::ffff:0:0/96, RFC 4291 §2.5.5.2). */
export function isIpv4Mapped(ip: IpAddress): boolean {
  if (ip.family !== 6) return false;
  for (let i = 0; i < 10; i++) if (ip.bytes[i] !== 0) return false;
  return ip.bytes[10] === 0xff && ip.bytes[11] === 0xff;
}

/**
 * The IPv4 address inside an IPv4-mapped one (what a dual-stack socket shows
 * an IPv4 peer as); any other address unchanged. The zone is dropped: IPv4 has none.
 */
export function unmapIp(ip: IpAddress): IpAddress {
  return isIpv4Mapped(ip) ? { family: 4, bytes: ip.bytes.slice(12), zone: undefined } : ip;
}

/**
 * The canonical text of `ip`: dotted decimal for IPv4; for IPv6 the RFC 5952
 * form (lower case, no leading zeros, the longest run of two or more zero
 * groups, the first of equals, written "::"), an IPv4-mapped address as
 * "::ffff:a.b.c.d" (§5), and the zone after "%".
 *
 * @example
 * ```ts
 * formatIp(parseIp("2001:0DB8:0:0:1:0:0:1")!); // "2001:db8::1:0:0:1"
 * formatIp(parseIp("::FFFF:c000:0207")!);      // "::ffff:192.0.2.7"
 * ```
 */
export function formatIp(ip: IpAddress): string {
  const b = ip.bytes;
  if (ip.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (isIpv4Mapped(ip)) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  let best = { at: -1, length: 1 }; // a single zero group is not compressed (§4.2.2)
  for (let i = 0; i < 8;) {
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > best.length) best = { at: i, length: end - i };
    i = end === i ? i + 1 : end;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  const text = best.at < 0
    ? hex(groups)
    : `${hex(groups.slice(0, best.at))}::${hex(groups.slice(best.at + best.length))}`;
  return ip.zone === undefined ? text : `${text}%${ip.zone}`;
}
