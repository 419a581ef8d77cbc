/**
 * The node's own networks: which addresses are on a link of this machine (so a
 * peer there reaches us without crossing any router, NAT or firewall) and
 * which are private. Pure functions over parsed addresses; `localNetworks()`
 * is the one place that reads the machine's interfaces.
 */

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

/** An address as 4 or 16 bytes; null when `host` is no IP literal. */
export function ipBytes(host: string): Uint8Array | null {
  const h = host.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(h);
  if (mapped) return ipBytes(mapped[1]!);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(h)) {
    const parts = h.split(".").map(Number);
    return parts.every((p) => p <= 255) ? Uint8Array.from(parts) : null;
  }
  if (!/^[0-9a-f:.]+$/i.test(h) || !h.includes(":")) return null;
  const halves = h.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    for (const part of s.split(":")) {
      if (part.includes(".")) {
        const v4 = ipBytes(part);
        if (!v4 || v4.length !== 4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-f]{1,4}$/i.test(part)) out.push(parseInt(part, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  const all = [...head, ...Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** Whether the first `bits` bits of two addresses of one family agree. */
function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

/** Whether `host` lies in `cidr` ("192.168.50.0/24", "2001:db8::/32"). */
export function inCidr(host: string, cidr: string): boolean {
  const [net, len] = cidr.split("/");
  const a = ipBytes(host);
  const b = ipBytes(net ?? "");
  const bits = Number(len);
  if (!a || !b || !Number.isInteger(bits) || bits < 0 || bits > b.length * 8) return false;
  return samePrefix(a, b, bits);
}

const LOOPBACK = ["127.0.0.0/8", "::1/128"];
const PRIVATE = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  // Carrier-grade NAT: shared by a provider's customers, never reachable from outside.
  "100.64.0.0/10",
  "169.254.0.0/16",
  "fc00::/7",
  "fe80::/10",
];

export function isLoopback(host: string): boolean {
  return LOOPBACK.some((c) => inCidr(host, c));
}

/** RFC 1918, carrier-grade NAT, link-local and unique-local addresses. */
export function isPrivateAddress(host: string): boolean {
  return PRIVATE.some((c) => inCidr(host, c));
}

/** Whether `host` is on a subnet of one of `networks` (a peer there reaches us without a router). */
export function onOwnLink(host: string, networks: readonly LocalNetwork[]): boolean {
  return networks.some((n) => inCidr(host, n.cidr));
}

/** Whether `host` is one of this machine's own interface addresses. */
export function isOwnAddress(host: string, networks: readonly LocalNetwork[]): boolean {
  const a = ipBytes(host);
  if (!a) return false;
  return networks.some((n) => {
    const b = ipBytes(n.address);
    return b !== null && samePrefix(a, b, a.length * 8);
  });
}
