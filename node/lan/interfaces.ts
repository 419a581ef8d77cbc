/**
 * Which network interfaces LAN announcements go out on, and from which
 * address: every up, multicast-capable, non-loopback interface that is a LAN.
 *
 * What counts as a LAN: an interface is skipped when it has a public IPv4
 * address and no private one (RFC 1918, link-local 169.254/16) and no IPv6
 * unique-local one. Such a segment is an ISP's or a hosting provider's (a
 * modem in bridge mode, a server's uplink, carrier-grade NAT's 100.64/10): the
 * hosts there are strangers, and a contact there reaches us at the public
 * address the cascade already publishes, so an announcement could only cost.
 * An interface with IPv6 but no IPv4 counts as a LAN even when its addresses
 * are global: IPv6-only home networks hand out global addresses only, and home
 * routers' IPv6 firewalls drop inbound connections, so the LAN is where
 * contacts there meet (the link-local group does not leave the link).
 */
import { ipKind, ipKindOf, parseIp } from "../ip/mod.ts";

export interface LanInterface {
  readonly name: string;
  /** The OS's interface index: IPv6 multicast names the interface by it. */
  readonly index: number | undefined;
  /** The private IPv4 address announcements go out from, if any. */
  readonly ipv4: string | undefined;
  /**
   * A unique-local or global IPv6 address announcements go out from, if any.
   * Never a link-local one: a receiver learns only the source address (Deno
   * reports no scope), and a link-local address cannot be dialled without one.
   */
  readonly ipv6: string | undefined;
}

/** What the OS says about an interface; undefined where it cannot be read (then it is tried). */
export interface InterfaceState {
  readonly up: boolean;
  readonly multicast: boolean;
  readonly loopback: boolean;
  readonly index: number | undefined;
}

const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFF_MULTICAST = 0x1000;

/**
 * Linux's view of an interface (sysfs); undefined elsewhere or when it cannot
 * be read, which is the rule: Deno grants reading /sys only with --allow-all.
 * Without it a down interface is still announced on, the send fails, and Lan
 * tries again each poll (see Lan's tick), so it is heard once the link is up.
 */
export function interfaceState(name: string): InterfaceState | undefined {
  if (!/^[\w.-]{1,15}$/.test(name)) return undefined;
  try {
    const flags = Number(Deno.readTextFileSync(`/sys/class/net/${name}/flags`).trim());
    const index = Number(Deno.readTextFileSync(`/sys/class/net/${name}/ifindex`).trim());
    if (!Number.isInteger(flags)) return undefined;
    return {
      up: (flags & IFF_UP) !== 0,
      loopback: (flags & IFF_LOOPBACK) !== 0,
      multicast: (flags & IFF_MULTICAST) !== 0,
      index: Number.isInteger(index) && index > 0 ? index : undefined,
    };
  } catch {
    return undefined;
  }
}

/** RFC 1918 and link-local (two machines on one cable without DHCP) IPv4 addresses. */
export function isPrivateIpv4(a: string): boolean {
  const ip = parseIp(a);
  return ip?.family === 4 && (ipKind(ip) === "private" || ipKind(ip) === "link-local");
}

export type Ipv6Kind = "link-local" | "unique-local" | "global" | "other";

/** fe80::/10, fc00::/7, 2000::/3 or anything else (loopback, multicast, mapped, IPv4, junk). */
export function ipv6Kind(a: string): Ipv6Kind {
  const ip = parseIp(a);
  if (ip?.family !== 6) return "other";
  const kind = ipKind(ip);
  return kind === "link-local" || kind === "unique-local" || kind === "global" ? kind : "other";
}

/**
 * The LAN interfaces among `addresses` (Deno.networkInterfaces()), one entry
 * per interface, sorted by name. `state` reads the OS's flags (see interfaceState).
 */
export function pickLanInterfaces(
  addresses: readonly Deno.NetworkInterfaceInfo[],
  state: (name: string) => InterfaceState | undefined = interfaceState,
): LanInterface[] {
  const byName = new Map<string, Deno.NetworkInterfaceInfo[]>();
  for (const a of addresses) {
    // Linux names an IPv4 alias "eth0:1"; it is still eth0.
    const name = a.name.split(":")[0]!;
    byName.set(name, [...(byName.get(name) ?? []), a]);
  }
  const out: LanInterface[] = [];
  for (const [name, addrs] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    const s = state(name);
    if (s && (!s.up || s.loopback || !s.multicast)) continue;
    const v4 = addrs.filter((a) => a.family === "IPv4").map((a) => a.address);
    const v6 = addrs.filter((a) => a.family === "IPv6");
    if (addrs.some((a) => ipKindOf(a.address) === "loopback")) continue;
    const private4 = v4.filter(isPrivateIpv4);
    const ula = v6.filter((a) => ipv6Kind(a.address) === "unique-local").map((a) => a.address);
    const global6 = v6.filter((a) => ipv6Kind(a.address) === "global").map((a) => a.address);
    if (v4.length > 0 && private4.length === 0 && ula.length === 0) continue; // public: see above
    const linkLocal = v6.find((a) => ipv6Kind(a.address) === "link-local");
    const ipv4 = private4[0];
    const ipv6 = ula[0] ?? global6[0];
    if (ipv4 === undefined && ipv6 === undefined) continue;
    out.push({ name, index: s?.index ?? linkLocal?.scopeid ?? undefined, ipv4, ipv6 });
  }
  return out;
}

/** This machine's LAN interfaces; [] when they cannot be read (no --allow-sys). */
export function lanInterfaces(): LanInterface[] {
  try {
    return pickLanInterfaces(Deno.networkInterfaces());
  } catch {
    return [];
  }
}
