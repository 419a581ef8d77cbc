/**
 * Address prefixes: "192.168.50.2/24" (what Deno.networkInterfaces() reports
 * as an interface's cidr: its own address with the subnet's length) and
 * whether an address lies in one.
 */
import { type IpAddress, parseIp } from "./ip_address.ts";

/** An address and a prefix length in bits (0 to 32, or to 128 for IPv6). */
export interface Cidr {
  readonly address: IpAddress;
  readonly bits: number;
}

const BITS = /^(?:0|[1-9][0-9]{0,2})$/;

/**
 * The prefix `text` names ("10.0.0.0/8", "2001:db8::/32", "fe80::1%eth0/64"),
 * or null: the address as parseIp takes it, the length in decimal without
 * leading zeros and no longer than the address. Host bits may be set.
 */
export function parseCidr(text: string): Cidr | null {
  if (typeof text !== "string") return null;
  const slash = text.lastIndexOf("/");
  if (slash < 0) return null;
  const address = parseIp(text.slice(0, slash));
  const len = text.slice(slash + 1);
  if (!address || !BITS.test(len)) return null;
  const bits = Number(len);
  return bits <= address.bytes.length * 8 ? { address, bits } : null;
}

/**
 * Whether the first `bits` bits of `a` and `b` agree. Addresses of different
 * families never do, so unmap (unmapIp) an address that may be IPv4-mapped
 * first; zones are ignored.
 */
export function samePrefix(a: IpAddress, b: IpAddress, bits: number): boolean {
  if (a.family !== b.family || bits < 0 || bits > a.bytes.length * 8) return false;
  for (let i = 0; i < a.bytes.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a.bytes[i]! & mask) !== (b.bytes[i]! & mask)) return false;
  }
  return true;
}

/** Whether `ip` lies in `cidr` (same family, same first `cidr.bits` bits). */
export function inCidr(ip: IpAddress, cidr: Cidr): boolean {
  return samePrefix(ip, cidr.address, cidr.bits);
}

/** Whether `a` and `b` are the same address (zones aside). */
export function sameIp(a: IpAddress, b: IpAddress): boolean {
  return samePrefix(a, b, a.bytes.length * 8);
}
