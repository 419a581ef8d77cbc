/**
 * IP addresses, in one place: parse IPv4 and IPv6 literals strictly, format
 * them canonically, unmap IPv4-mapped IPv6, classify (loopback, private,
 * CGNAT, link-local, unique-local, multicast, …) and test prefixes.
 *
 *   const ip = parseIp("::ffff:192.168.1.20");  // null for "1.2.3." or a name
 *   formatIp(unmapIp(ip!));                     // "192.168.1.20"
 *   ipKind(unmapIp(ip!));                       // "private"
 *   inCidr(ip!, parseCidr("::ffff:0:0/96")!);   // true
 */
export { type Cidr, inCidr, parseCidr, sameIp, samePrefix } from "./cidr.ts";
export {
  formatIp,
  type IpAddress,
  ipFromBytes,
  isIpv4Mapped,
  parseIp,
  unmapIp,
} from "./ip_address.ts";
export { type IpKind, ipKind, ipKindOf } from "./ip_kind.ts";
