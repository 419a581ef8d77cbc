/**
 * What kind of address an IP address is: the special-purpose ranges the node
 * treats differently (IANA's IPv4 and IPv6 special-purpose registries, RFC
 * 6890), one table for both families.
 */
import { type Cidr, inCidr, parseCidr } from "./cidr.ts";
import { type IpAddress, parseIp } from "./ip_address.ts";

/**
 * - `unspecified`: 0.0.0.0/8 ("this network", only ever a source, RFC 1122
 *   §3.2.1.3) and ::.
 * - `loopback`: 127/8 and ::1.
 * - `private`: RFC 1918 (10/8, 172.16/12, 192.168/16).
 * - `cgnat`: 100.64/10, carrier-grade NAT's shared space (RFC 6598).
 * - `link-local`: 169.254/16 and fe80::/10.
 * - `site-local`: fec0::/10, deprecated (RFC 3879) but still met.
 * - `unique-local`: fc00::/7 (RFC 4193).
 * - `multicast`: 224/4 and ff00::/8.
 * - `ipv4-mapped`: ::ffff:0:0/96; unmapIp gives the IPv4 address to classify.
 * - `ipv4-compatible`: the rest of ::/96 ("::a.b.c.d"), deprecated (RFC 4291 §2.5.5.1).
 * - `reserved`: 240/4 (with the broadcast 255.255.255.255), and IPv6 unicast
 *   outside 2000::/3 (NAT64's 64:ff9b::/96, discard-only 100::/64, unassigned space).
 * - `global`: the rest of IPv4 and 2000::/3, documentation ranges included
 *   (tests stand them in for public addresses).
 */
export type IpKind =
  | "unspecified"
  | "loopback"
  | "private"
  | "cgnat"
  | "link-local"
  | "site-local"
  | "unique-local"
  | "multicast"
  | "ipv4-mapped"
  | "ipv4-compatible"
  | "reserved"
  | "global";

/** First match wins; an address in none is `global` (IPv4) or `reserved` (IPv6). */
const RANGES: readonly (readonly [Cidr, IpKind])[] = ([
  ["0.0.0.0/8", "unspecified"],
  ["127.0.0.0/8", "loopback"],
  ["10.0.0.0/8", "private"],
  ["172.16.0.0/12", "private"],
  ["192.168.0.0/16", "private"],
  ["100.64.0.0/10", "cgnat"],
  ["169.254.0.0/16", "link-local"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"],
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["::ffff:0:0/96", "ipv4-mapped"],
  ["::/96", "ipv4-compatible"],
  ["fe80::/10", "link-local"],
  ["fec0::/10", "site-local"],
  ["fc00::/7", "unique-local"],
  ["ff00::/8", "multicast"],
  ["2000::/3", "global"],
] as const).map(([cidr, kind]) => [parseCidr(cidr)!, kind] as const);

/**
 * The kind of `ip`, as the bytes say: an IPv4-mapped address is
 * `ipv4-mapped`, whatever IPv4 address it carries (unmapIp it first to ask about that).
 *
 * @example
 * ```ts
 * ipKind(parseIp("100.72.1.2")!); // "cgnat"
 * ipKind(parseIp("fd12::7")!);    // "unique-local"
 * ipKind(parseIp("2001:db8::1")!); // "global"
 * ```
 */
export function ipKind(ip: IpAddress): IpKind {
  for (const [cidr, kind] of RANGES) if (inCidr(ip, cidr)) return kind;
  return ip.family === 4 ? "global" : "reserved";
}

/**
 * The kind of the address `text` names (see parseIp), as the bytes say; null
 * when `text` names none.
 */
export function ipKindOf(text: string): IpKind | null {
  const ip = parseIp(text);
  return ip && ipKind(ip);
}
