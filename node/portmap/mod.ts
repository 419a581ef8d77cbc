/**
 * Port mapping on the home router (UPnP-IGD, else NAT-PMP): asks the LAN
 * gateway to forward the node's listen port (TCP, and UDP for QUIC on the same
 * port) so that peers can dial in directly instead of through a relay.
 *
 *   const map = startPortMap({ port: 7022, host: "0.0.0.0", udp: true, log, onChange });
 *   map.external;      // "203.0.113.5:7022" once the router said yes
 *   await map.close(); // removes the mappings
 *
 * Everything runs in the background with short timeouts: a network without a
 * mapping-capable router costs one log line, and the node falls back to what it
 * has (relays, punching). Leases are renewed before they end (UPnP by the
 * library, NAT-PMP here).
 *
 * Known limit of @achingbrain/nat-port-mapper 4.0.5: its UPnP unmap sends
 * DeletePortMapping with an empty protocol, which routers take as TCP, so on
 * close the UDP mapping stays until its lease (1 hour, the library's minimum)
 * ends; nothing listens on it then.
 *
 * The library is imported only when mapping is on: its logger reads many
 * environment variables when loaded, which a node run with a narrow
 * `--allow-env` must ignore (`--ignore-env` in deno.json's tasks) or, failing
 * that, lose only the mapping, not start-up.
 */
import type { Gateway } from "@achingbrain/nat-port-mapper";
import { formatEndpoint } from "../transport/mod.ts";

export interface PortMapOptions {
  /** The port the node listens on; the router is asked for the same one outside. */
  readonly port: number;
  /** The listen host; a wildcard means "the address on the gateway's LAN". */
  readonly host: string;
  /** Also map UDP (QUIC) on the same port. */
  readonly udp: boolean;
  readonly log: (line: string) => void;
  /** Called with the external "host:port" when a mapping is made. */
  readonly onChange: (external: string) => void;
  /** How long to look for a gateway and wait for each answer. @default 3000 */
  readonly timeoutMs?: number;
  /** Lease asked for; renewed a minute before it ends. @default 3_600_000 */
  readonly leaseMs?: number;
}

export interface PortMap {
  /** The mapped external "host:port", or undefined (none yet, or none possible). */
  readonly external: string | undefined;
  /** Settles when the first attempt is over (mapped or given up). */
  readonly settled: Promise<void>;
  /** Removes the mappings (bounded wait) and stops renewing. */
  close(): Promise<void>;
}

const DESCRIPTION = "roj";

export function startPortMap(options: PortMapOptions): PortMap {
  // Nothing outside can reach a loopback listener, so the LAN is not asked (nor is it in tests).
  if (/^127\./.test(options.host) || options.host === "::1") {
    return { external: undefined, settled: Promise.resolve(), close: () => Promise.resolve() };
  }
  const timeoutMs = options.timeoutMs ?? 3000;
  const stop = new AbortController();
  let gateway: Gateway | undefined;
  let external: string | undefined;
  let closed = false;

  const attempt = async (): Promise<void> => {
    const tried: string[] = [];
    for (const find of [findUpnp, findPmp]) {
      if (closed) return;
      let gw: Gateway | undefined;
      try {
        gw = await find(timeoutMs, stop.signal, options.leaseMs ?? 3_600_000);
        if (!gw) {
          tried.push(find === findUpnp ? "no UPnP-IGD gateway answered" : "no default gateway");
          continue;
        }
        const internal = isWildcard(options.host) ? lanAddressFor(gw.host) : options.host;
        if (!internal) throw new Error(`no local address on the LAN of gateway ${gw.host}`);
        const signal = AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]);
        const tcp = await gw.map(options.port, internal, {
          protocol: "tcp",
          externalPort: options.port,
          description: DESCRIPTION,
          signal,
        });
        if (options.udp) {
          try {
            await gw.map(options.port, internal, {
              protocol: "udp",
              externalPort: tcp.externalPort,
              description: DESCRIPTION,
              signal: AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]),
            });
          } catch (err) {
            options.log(`port mapping: UDP refused (${oneLine(err)}); TCP only`);
          }
        }
        if (closed) {
          await gw.stop({ signal: AbortSignal.timeout(timeoutMs) }).catch(() => {});
          return;
        }
        gateway = gw;
        external = formatEndpoint({ host: tcp.externalHost, port: tcp.externalPort });
        options.log(
          `port mapped by ${
            find === findUpnp ? "UPnP-IGD" : "NAT-PMP"
          } gateway ${gw.host}: ${external} -> ${internal}:${options.port}`,
        );
        options.onChange(external);
        return;
      } catch (err) {
        if (closed) return;
        tried.push(`${find === findUpnp ? "UPnP-IGD" : "NAT-PMP"}: ${oneLine(err)}`);
        await gw?.stop().catch(() => {});
      }
    }
    options.log(`no port mapping (${tried.join("; ")}); relays and punching still work`);
  };
  const settled = attempt().catch((err) => options.log(`port mapping failed: ${oneLine(err)}`));

  return {
    get external() {
      return external;
    },
    settled,
    async close() {
      if (closed) return;
      closed = true;
      stop.abort();
      const gw = gateway;
      gateway = undefined;
      if (!gw) return;
      // Unmaps what this gateway mapped; a router that does not answer keeps it until the lease ends.
      await Promise.race([
        gw.stop().catch(() => {}),
        new Promise((r) => setTimeout(r, timeoutMs)),
      ]);
    },
  };
}

async function findUpnp(
  timeoutMs: number,
  stop: AbortSignal,
  ttl: number,
): Promise<Gateway | undefined> {
  const { upnpNat } = await import("@achingbrain/nat-port-mapper");
  const client = upnpNat({ description: DESCRIPTION, ttl, autoRefresh: true });
  const signal = AbortSignal.any([stop, AbortSignal.timeout(timeoutMs)]);
  try {
    for await (const gw of client.findGateways({ signal })) {
      if (gw.family === "IPv4") return gw;
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
  return undefined;
}

async function findPmp(
  _timeoutMs: number,
  _stop: AbortSignal,
  ttl: number,
): Promise<Gateway | undefined> {
  const host = defaultGateway();
  if (!host) return undefined;
  const { pmpNat } = await import("@achingbrain/nat-port-mapper");
  // This library version sends the NAT-PMP lifetime as given, in seconds (not ms as for
  // UPnP), and its own refresh would then spin: pass seconds and renew here instead.
  const lifetime = Math.max(120, Math.round(ttl / 1000));
  const gw = pmpNat(host, { description: DESCRIPTION, ttl: lifetime, autoRefresh: false });
  const mapped: Parameters<Gateway["map"]>[] = [];
  const timer = setInterval(() => {
    for (const args of mapped) gw.map(...args).catch(() => {});
  }, (lifetime * 1000) / 2);
  Deno.unrefTimer(timer);
  return {
    ...gw,
    id: gw.id,
    host: gw.host,
    port: gw.port,
    family: gw.family,
    map: async (...args: Parameters<Gateway["map"]>) => {
      const m = await gw.map(...args);
      mapped.push([args[0], args[1], { ...args[2], signal: undefined } as never]);
      return m;
    },
    mapAll: (...args) => gw.mapAll(...args),
    unmap: (...args) => gw.unmap(...args),
    externalIp: (...args) => gw.externalIp(...args),
    stop: (...args) => {
      clearInterval(timer);
      return gw.stop(...args);
    },
  };
}

/**
 * The IPv4 default gateway from /proc/net/route (Linux). Deno reads /proc only
 * with --allow-all, so otherwise: the first address of the machine's private
 * IPv4 subnet, where home routers sit. Undefined when neither is known.
 */
export function defaultGateway(): string | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync("/proc/net/route");
  } catch {
    return firstHostOfLan();
  }
  for (const line of text.split("\n").slice(1)) {
    const [, dest, gw] = line.trim().split(/\s+/);
    if (dest !== "00000000" || !gw || gw === "00000000") continue;
    // Little-endian hex: "0132A8C0" is 192.168.50.1.
    const n = parseInt(gw, 16);
    return [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255].join(".");
  }
  return undefined;
}

function firstHostOfLan(): string | undefined {
  let ifs: Deno.NetworkInterfaceInfo[];
  try {
    ifs = Deno.networkInterfaces();
  } catch {
    return undefined;
  }
  for (const i of ifs) {
    const addr = ipv4(i.address), mask = ipv4(i.netmask);
    if (i.family !== "IPv4" || addr === undefined || mask === undefined) continue;
    if (!/^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(i.address)) continue;
    const first = (((addr & mask) >>> 0) + 1) >>> 0;
    if (first === addr) continue;
    return [first >>> 24, (first >> 16) & 255, (first >> 8) & 255, first & 255].join(".");
  }
  return undefined;
}

/** This machine's IPv4 address on the same subnet as `gateway`. */
export function lanAddressFor(gateway: string): string | undefined {
  const target = ipv4(gateway);
  if (target === undefined) return undefined;
  let ifs: Deno.NetworkInterfaceInfo[];
  try {
    ifs = Deno.networkInterfaces();
  } catch {
    return undefined;
  }
  for (const i of ifs) {
    if (i.family !== "IPv4") continue;
    const addr = ipv4(i.address), mask = ipv4(i.netmask);
    if (addr === undefined || mask === undefined) continue;
    if (((addr & mask) >>> 0) === ((target & mask) >>> 0)) return i.address;
  }
  return undefined;
}

function ipv4(s: string): number | undefined {
  const parts = s.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    return undefined;
  }
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "";
}

function oneLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0]!.slice(0, 200);
}
