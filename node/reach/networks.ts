/**
 * The node's own networks: which addresses are on a link of this machine (so a
 * peer there reaches us without crossing any router, NAT or firewall) and
 * which are private. Pure functions over parsed addresses; `localNetworks()`
 * is the one place that reads the machine's interfaces.
 */
import {
  inCidr as ipInCidr,
  type IpAddress,
  type IpKind,
  ipKind,
  parseCidr,
  parseIp,
  sameIp,
  unmapIp,
} from "../ip/mod.ts";

/** One non-loopback interface address with its prefix, as `Deno.networkInterfaces()` gives it. */
export interface LocalNetwork {
  /** "192.168.50.2" or "2001:db8:50::2". */
  readonly address: string;
  /** "192.168.50.2/24": the subnet the address is on. */
  readonly cidr: string;
}

/**
 * The machine's non-loopback interface addresses and their subnets. Loopback
 * is left out on purpose: two nodes on 127.x are how tests stand for two
 * machines, and nothing from outside arrives there anyway. Empty when the
 * interfaces cannot be read (the caller then treats nobody as on our link).
 */
export function localNetworks(): LocalNetwork[] {
  try {
    return Deno.networkInterfaces()
      .filter((i) => !isLoopback(i.address))
      .map((i) => ({ address: i.address, cidr: i.cidr }));
  } catch {
    return [];
  }
}

/**
 * The address a host text names, IPv4-mapped ones as IPv4; null when it is no
 * IP literal. Brackets ("[::1]") and a zone are allowed.
 */
function hostIp(host: string): IpAddress | null {
  const ip = parseIp(/^\[([^\[\]]*)\]$/.exec(host)?.[1] ?? host);
  return ip && unmapIp(ip);
}

/** An address as 4 or 16 bytes; null when `host` is no IP literal. */
export function ipBytes(host: string): Uint8Array | null {
  return hostIp(host)?.bytes ?? null;
}

/** Whether `host` lies in `cidr` ("192.168.50.0/24", "2001:db8::/32"). */
export function inCidr(host: string, cidr: string): boolean {
  const ip = hostIp(host);
  const net = parseCidr(cidr);
  return ip !== null && net !== null && ipInCidr(ip, net);
}

/** Whether `host` is a loopback address (127/8, ::1, also IPv4-mapped): only this machine's. */
export function isLoopback(host: string): boolean {
  const ip = hostIp(host);
  return ip !== null && ipKind(ip) === "loopback";
}

/** Kinds nobody outside the site reaches: a peer there is behind the same or another NAT. */
const PRIVATE: ReadonlySet<IpKind> = new Set(["private", "cgnat", "link-local", "unique-local"]);

/** RFC 1918, carrier-grade NAT, link-local and unique-local addresses. */
export function isPrivateAddress(host: string): boolean {
  const ip = hostIp(host);
  return ip !== null && PRIVATE.has(ipKind(ip));
}

/** Whether `host` is on a subnet of one of `networks` (a peer there reaches us without a router). */
export function onOwnLink(host: string, networks: readonly LocalNetwork[]): boolean {
  return networks.some((n) => inCidr(host, n.cidr));
}

/** Whether `host` is one of this machine's own interface addresses. */
export function isOwnAddress(host: string, networks: readonly LocalNetwork[]): boolean {
  const a = hostIp(host);
  if (!a) return false;
  return networks.some((n) => {
    const b = hostIp(n.address);
    return b !== null && sameIp(a, b);
  });
}
