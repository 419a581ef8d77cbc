/**
 * Where the LAN gateway is (NAT-PMP talks to the default gateway, RFC 6886
 * §3.1) and which of this machine's addresses sits on its LAN.
 *
 * The default route is read, narrowest permission first:
 * 1. /proc/net/route (Linux). Deno 2.9 lets a program read /proc only with
 *    --allow-all, so this works in tests and under `deno run -A`.
 * 2. `ip -4 route show default`, only if running `ip` is already allowed
 *    (`--allow-run=…,ip`, as the deno.json tasks grant): the permission is
 *    queried, never prompted for.
 * 3. A guess: the first host of the machine's private IPv4 subnet, where home
 *    routers usually sit.
 */
import { formatIp, ipFromBytes, ipKindOf, parseIp } from "../ip/mod.ts";

/**
 * The IPv4 default gateway in the text of /proc/net/route, or undefined.
 * Of several default routes the one with the lowest metric wins, as in the kernel.
 *
 * @example
 * parseProcNetRoute("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n" +
 *   "eth0\t00000000\t0132A8C0\t0003\t0\t0\t100\t00000000\n"); // "192.168.50.1"
 */
export function parseProcNetRoute(text: string): string | undefined {
  let best: { gw: string; metric: number } | undefined;
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    const [, dest, gw, flags, , , metric] = f;
    if (dest !== "00000000" || !gw || !/^[0-9A-Fa-f]{8}$/.test(gw) || gw === "00000000") continue;
    // RTF_UP (1) and RTF_GATEWAY (2): a live route through a router.
    if (flags !== undefined && (parseInt(flags, 16) & 3) !== 3) continue;
    // Little-endian hex: "0132A8C0" is 192.168.50.1.
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, parseInt(gw, 16), true);
    const addr = formatIp(ipFromBytes(bytes));
    const m = Number(metric ?? 0) || 0;
    if (!best || m < best.metric) best = { gw: addr, metric: m };
  }
  return best?.gw;
}

/**
 * The IPv4 default gateway in the output of `ip -4 route show default`, or undefined.
 *
 * @example
 * parseIpRoute("default via 192.168.50.1 dev eth0 proto dhcp metric 100\n"); // "192.168.50.1"
 */
export function parseIpRoute(text: string): string | undefined {
  let best: { gw: string; metric: number } | undefined;
  for (const line of text.split("\n")) {
    const m = /^default\s+via\s+(\S+)(.*)$/.exec(line.trim());
    if (!m || ipv4(m[1]!) === undefined) continue;
    const metric = Number(/\bmetric\s+(\d+)/.exec(m[2]!)?.[1] ?? 0);
    if (!best || metric < best.metric) best = { gw: m[1]!, metric };
  }
  return best?.gw;
}

/** How the gateway was found, for the log and `roj status`. */
export type GatewaySource = "route table" | "guess";

/** The IPv4 default gateway (see the module comment for how), or undefined. */
export function defaultGateway(): { host: string; source: GatewaySource } | undefined {
  const fromTable = readProcNetRoute() ?? runIpRoute();
  if (fromTable !== undefined) {
    return fromTable === null ? undefined : { host: fromTable, source: "route table" };
  }
  const guess = firstHostOfLan();
  return guess ? { host: guess, source: "guess" } : undefined;
}

/** The gateway, null when the table has no default route, undefined when it cannot be read. */
function readProcNetRoute(): string | null | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync("/proc/net/route");
  } catch {
    return undefined;
  }
  return parseProcNetRoute(text) ?? null;
}

function runIpRoute(): string | null | undefined {
  try {
    if (Deno.permissions.querySync({ name: "run", command: "ip" }).state !== "granted") {
      return undefined;
    }
    const out = new Deno.Command("ip", {
      args: ["-4", "route", "show", "default"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    if (!out.success) return undefined;
    // A route table is a few lines; a huge answer is not one.
    return parseIpRoute(new TextDecoder().decode(out.stdout.subarray(0, 65536))) ?? null;
  } catch {
    return undefined;
  }
}

/** This machine's IPv4 interface addresses with their masks as numbers (none if it may not ask). */
function ipv4Interfaces(): { address: string; addr: number; mask: number }[] {
  let ifs: Deno.NetworkInterfaceInfo[];
  try {
    ifs = Deno.networkInterfaces();
  } catch {
    return [];
  }
  return ifs.flatMap((i) => {
    const addr = ipv4(i.address), mask = ipv4(i.netmask);
    return i.family === "IPv4" && addr !== undefined && mask !== undefined
      ? [{ address: i.address, addr, mask }]
      : [];
  });
}

function firstHostOfLan(): string | undefined {
  for (const { address, addr, mask } of ipv4Interfaces()) {
    if (ipKindOf(address) !== "private") continue;
    const first = (((addr & mask) >>> 0) + 1) >>> 0;
    if (first === addr) continue;
    return formatIpv4(first);
  }
  return undefined;
}

/** This machine's IPv4 address on the same subnet as `gateway`. */
export function lanAddressFor(gateway: string): string | undefined {
  const target = ipv4(gateway);
  if (target === undefined) return undefined;
  const same = ipv4Interfaces().find(({ addr, mask }) =>
    ((addr & mask) >>> 0) === ((target & mask) >>> 0)
  );
  return same?.address;
}

/** A dotted IPv4 address as a 32-bit number (for masks), or undefined when `s` is none. */
export function ipv4(s: string): number | undefined {
  const ip = parseIp(s);
  if (ip?.family !== 4) return undefined;
  return new DataView(ip.bytes.buffer, ip.bytes.byteOffset).getUint32(0);
}

/** The dotted form of a 32-bit IPv4 address. */
export function formatIpv4(n: number): string {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, n >>> 0);
  return formatIp(ipFromBytes(bytes));
}
