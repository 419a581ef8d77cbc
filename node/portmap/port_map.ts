/**
 * Keeps the listen port mapped on the home router: finds a gateway (UPnP-IGD,
 * else NAT-PMP at the default gateway), maps TCP and (for QUIC) UDP, renews
 * the lease at half its length, follows a changed external address or port,
 * and removes every mapping it made on close.
 */
import type { PortMapView } from "../api/mod.ts";
import { type Clock, systemClock, type TimerId, withTimeout } from "../clock/mod.ts";
import { formatEndpoint } from "../transport/mod.ts";
import { type IpKind, ipKind, ipKindOf, parseIp } from "../ip/mod.ts";
import { defaultGateway, lanAddressFor } from "./gateway_address.ts";
import { NatPmpClient, type Protocol } from "./nat_pmp.ts";
import { UpnpGateway } from "./upnp.ts";
import { isRojError } from "../errors.ts";

/** Why a gateway gave us no mapping, as a code a script can use. */
export type PortMapMiss =
  /** No UPnP-IGD gateway answered the search; for NAT-PMP: no default gateway known. */
  | "no-gateway"
  /** We have no address on the gateway's LAN. */
  | "no-lan-address"
  /** The gateway did not answer in time. */
  | "no-answer"
  /** The gateway refused, or answered what we cannot use. */
  | "refused"
  /** The router's own external address is private: another NAT sits outside it. */
  | "behind-another-nat";

/** A mapping of one protocol: the external port the router forwards. */
export interface PortMapping {
  readonly protocol: Protocol;
  readonly port: number;
}

/**
 * What the port mapping tells the node as it goes, beside the log lines for
 * people: codes and values (the node makes events of them, api/NodeEvent).
 * `gateway` and `external` come from the router: bounded before use.
 */
export type PortMapNote =
  | {
    readonly type: "mapped";
    readonly method: "upnp" | "nat-pmp";
    readonly gateway: string;
    readonly external: string;
    readonly internal: string;
    readonly protocols: readonly Protocol[];
    readonly leaseSeconds: number;
  }
  /** The router mapped TCP but refused UDP (QUIC). */
  | { readonly type: "udp-refused"; readonly code: PortMapMiss }
  /** A renewal worked; `moved` when the router now maps another external address. */
  | {
    readonly type: "renewed";
    readonly external: string;
    readonly leaseSeconds: number;
    readonly moved: boolean;
  }
  | { readonly type: "renewal-failed"; readonly code: PortMapMiss }
  /** Mappings removed (node stopping, or a failed attempt undone), and those that could not be. */
  | { readonly type: "removed"; readonly mappings: readonly PortMapping[] }
  | { readonly type: "remove-failed"; readonly mappings: readonly PortMapping[] }
  /** No gateway mapped the port: what each method found. */
  | {
    readonly type: "none";
    readonly tried: readonly {
      readonly method: "upnp" | "nat-pmp";
      readonly code: PortMapMiss;
      readonly gateway?: string;
    }[];
  };

export interface PortMapOptions {
  /** The port the node listens on; the router is asked for the same one outside. */
  readonly port: number;
  /** The listen host; a wildcard means "the address on the gateway's LAN". */
  readonly host: string;
  /** Also map UDP (QUIC) on the same port. */
  readonly udp: boolean;
  readonly log: (line: string) => void;
  /** Told what happened, for the node's events. @default nothing */
  readonly note?: (n: PortMapNote) => void;
  /** Called with the external "host:port" when a mapping is made or its address changes. */
  readonly onChange: (external: string) => void;
  /** How long to look for a gateway and wait for each answer. @default 3000 */
  readonly timeoutMs?: number;
  /** Lease asked for; renewed at half of what the router grants. @default 3_600_000 */
  readonly leaseMs?: number;
  /** Times answers and renewals; its `now` dates the status unless `now` is given. @default systemClock */
  readonly clock?: Clock;
  /** The time status changes are dated by. @default clock.now */
  readonly now?: () => number;
}

export interface PortMap {
  /** The mapped external "host:port", or undefined (none yet, or none possible). */
  readonly external: string | undefined;
  /** What `roj status` shows. */
  readonly status: PortMapView;
  /** Settles when the first attempt is over (mapped or given up). */
  readonly settled: Promise<void>;
  /** Removes the mappings (bounded wait) and stops renewing. */
  close(): Promise<void>;
}

const DESCRIPTION = "roj";

/** One router's mapping service, UPnP-IGD or NAT-PMP, seen the same way. */
interface Mapper {
  readonly method: "upnp" | "nat-pmp";
  readonly host: string;
  /** How the gateway was found, for the log. */
  readonly found: string;
  externalIp(signal: AbortSignal): Promise<string>;
  map(
    protocol: Protocol,
    internalHost: string,
    internalPort: number,
    externalPort: number,
    leaseS: number,
    signal: AbortSignal,
  ): Promise<{ externalPort: number; lifetimeS: number }>;
  unmap(
    protocol: Protocol,
    internalPort: number,
    externalPort: number,
    signal: AbortSignal,
  ): Promise<void>;
  close(): void;
}

/** A port mapping that is off, for `roj status` (e.g. "--no-upnp"). */
export function portMapOff(reason: string): PortMap {
  return {
    external: undefined,
    status: { state: "off", reason },
    settled: Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

export function startPortMap(options: PortMapOptions): PortMap {
  // Nothing outside can reach a loopback listener, so the LAN is not asked (nor is it in tests).
  if (ipKindOf(options.host) === "loopback") {
    return portMapOff("listening on loopback only");
  }
  const timeoutMs = options.timeoutMs ?? 3000;
  const leaseS = Math.max(1, Math.round((options.leaseMs ?? 3_600_000) / 1000));
  const clock = options.clock ?? systemClock;
  const now = options.now ?? (() => clock.now());
  const stop = new AbortController();
  const answer = () => timeoutSignal(clock, timeoutMs);
  let status: PortMapView = { state: "searching" };
  let closed = false;
  let gateway: Mapper | undefined;
  let internalHost = "";
  /** What was asked of the router; only these are unmapped. */
  const made = new Map<Protocol, number>();
  let renewTimer: TimerId | undefined;
  let renewing: Promise<void> = Promise.resolve();

  const say = (line: string) => options.log(`port mapping: ${line}`);
  const note = (n: PortMapNote) => {
    try {
      options.note?.(n);
    } catch { /* a listener's failure is its own */ }
  };

  const unmapAll = async (gw: Mapper) => {
    const what = [...made];
    made.clear();
    const failed: string[] = [];
    const removed: PortMapping[] = [];
    const kept: PortMapping[] = [];
    // A fresh time limit: close() has already aborted `stop`.
    await Promise.all(
      what.map(([protocol, port]) =>
        gw.unmap(protocol, options.port, port, answer()).then(
          () => removed.push({ protocol, port }),
          (err) => {
            kept.push({ protocol, port });
            failed.push(`${protocol.toUpperCase()} ${port}: ${oneLine(err)}`);
          },
        )
      ),
    );
    // In the order they were made, whichever answered first.
    const order = (a: PortMapping, b: PortMapping) =>
      what.findIndex(([p]) => p === a.protocol) - what.findIndex(([p]) => p === b.protocol);
    if (removed.length) note({ type: "removed", mappings: removed.sort(order) });
    if (kept.length) note({ type: "remove-failed", mappings: kept.sort(order) });
    if (failed.length) say(`could not remove (${failed.join("; ")}); the lease will end it`);
    else if (what.length) {
      say(`removed ${what.map(([p, port]) => `${p.toUpperCase()} ${port}`).join(", ")}`);
    }
  };

  const scheduleRenewal = (afterMs: number) => {
    if (closed) return;
    clock.clearTimeout(renewTimer);
    renewTimer = clock.setTimeout(() => {
      renewing = renew();
    }, afterMs);
    // Renewal alone does not keep the process alive.
    clock.unref(renewTimer);
  };

  /**
   * Maps each protocol, or renews what is mapped; returns the TCP port granted
   * and the shortest lease. A router refusing UDP at first leaves TCP alone;
   * a failed renewal throws, and is retried whole.
   */
  const mapEach = async (
    gw: Mapper,
    renewal: boolean,
  ): Promise<{ port: number; lifetimeS: number }> => {
    const ask = made.get("tcp") ?? options.port;
    made.set("tcp", ask);
    const tcp = await gw.map("tcp", internalHost, options.port, ask, leaseS, answer());
    made.set("tcp", tcp.externalPort);
    let lifetimeS = tcp.lifetimeS;
    if (options.udp && (!renewal || made.has("udp"))) {
      made.set("udp", made.get("udp") ?? tcp.externalPort);
      try {
        const udp = await gw.map(
          "udp",
          internalHost,
          options.port,
          made.get("udp")!,
          leaseS,
          answer(),
        );
        made.set("udp", udp.externalPort);
        lifetimeS = Math.min(lifetimeS, udp.lifetimeS);
      } catch (err) {
        if (renewal) throw err;
        made.delete("udp");
        say(`UDP refused (${oneLine(err)}); TCP only`);
        note({ type: "udp-refused", code: missOf(err) });
      }
    }
    return { port: tcp.externalPort, lifetimeS };
  };

  const renew = async () => {
    const gw = gateway;
    if (!gw || closed) return;
    try {
      const { port, lifetimeS } = await mapEach(gw, true);
      const external = formatEndpoint({ host: await gw.externalIp(answer()), port });
      const changed = external !== status.external;
      // A renewal that works clears the last failure's reason.
      const { reason: _, ...rest } = status;
      status = {
        ...rest,
        external,
        protocols: [...made.keys()],
        leaseSeconds: lifetimeS,
        renewedAt: now(),
      };
      note({ type: "renewed", external, leaseSeconds: lifetimeS, moved: changed });
      if (changed) {
        say(`the router now maps ${external}`);
        options.onChange(external);
      }
      scheduleRenewal(Math.max(500, (lifetimeS * 1000) / 2));
    } catch (err) {
      status = { ...status, reason: `renewal failed: ${oneLine(err)}` };
      say(`renewal failed (${oneLine(err)}); trying again`);
      note({ type: "renewal-failed", code: missOf(err) });
      scheduleRenewal(Math.max(500, Math.min((leaseS * 1000) / 4, 30_000)));
    }
  };

  const attempt = async (): Promise<void> => {
    const tried: string[] = [];
    const misses: Array<{ method: "upnp" | "nat-pmp"; code: PortMapMiss; gateway?: string }> = [];
    for (const find of [findUpnp, findPmp]) {
      if (closed) return;
      const method = find === findUpnp ? "upnp" : "nat-pmp";
      let gw: Mapper | undefined;
      /** Why this method gave no mapping, if it fails now. */
      let miss: PortMapMiss | undefined;
      try {
        gw = await find(AbortSignal.any([stop.signal, answer()]), clock);
        if (!gw) {
          tried.push(find === findUpnp ? "no UPnP-IGD gateway answered" : "no default gateway");
          misses.push({ method, code: "no-gateway" });
          continue;
        }
        const internal = isWildcard(options.host) ? lanAddressFor(gw.host) : options.host;
        if (!internal) {
          miss = "no-lan-address";
          throw new Error(`no local address on the LAN of gateway ${gw.host}`);
        }
        internalHost = internal;
        // Requests already sent are not aborted by close(): the mapping they make must be
        // known to be removed.
        const { port, lifetimeS } = await mapEach(gw, false);
        const externalIp = await gw.externalIp(answer());
        if (behindAnotherNat(externalIp)) {
          miss = "behind-another-nat";
          throw new Error(
            `the router's own external address ${externalIp} is private (another NAT outside it); a mapping would not reach us`,
          );
        }
        const external = formatEndpoint({ host: externalIp, port });
        if (closed) {
          await unmapAll(gw);
          gw.close();
          return;
        }
        gateway = gw;
        const name = gw.method === "upnp" ? "UPnP-IGD" : "NAT-PMP";
        status = {
          state: "mapped",
          method: gw.method,
          gateway: gw.host,
          external,
          internal: formatEndpoint({ host: internal, port: options.port }),
          protocols: [...made.keys()],
          leaseSeconds: lifetimeS,
          renewedAt: now(),
        };
        options.log(
          `port mapped by ${name} gateway ${gw.host}: ${external} -> ${internal}:${options.port} (${
            [...made.keys()].join(", ").toUpperCase()
          }, lease ${lifetimeS} s; ${gw.found})`,
        );
        note({
          type: "mapped",
          method: gw.method,
          gateway: gw.host,
          external,
          internal: formatEndpoint({ host: internal, port: options.port }),
          protocols: [...made.keys()],
          leaseSeconds: lifetimeS,
        });
        options.onChange(external);
        scheduleRenewal(Math.max(500, (lifetimeS * 1000) / 2));
        return;
      } catch (err) {
        misses.push({ method, code: miss ?? missOf(err), ...(gw ? { gateway: gw.host } : {}) });
        tried.push(
          `${find === findUpnp ? "UPnP-IGD" : "NAT-PMP"}: ${oneLine(err)}${
            gw?.method === "nat-pmp" ? ` (${gw.found})` : ""
          }`,
        );
        if (gw) {
          await unmapAll(gw);
          gw.close();
        }
        if (closed) return;
      }
    }
    const reason = tried.join("; ");
    status = { state: "none", reason };
    options.log(`no port mapping (${reason}); relays and punching still work`);
    note({ type: "none", tried: misses });
  };
  const settled = attempt().catch((err) => {
    status = { state: "none", reason: oneLine(err) };
    options.log(`port mapping failed: ${oneLine(err)}`);
  });

  return {
    get external() {
      return status.state === "mapped" ? status.external : undefined;
    },
    get status() {
      return status;
    },
    settled,
    async close() {
      if (closed) return;
      closed = true;
      stop.abort();
      clock.clearTimeout(renewTimer);
      // Let a request under way finish, so that what it maps is removed too.
      const bound = (p: Promise<unknown>) => withTimeout(clock, p, 2 * timeoutMs, () => {});
      await bound(Promise.all([settled, renewing]));
      const gw = gateway;
      gateway = undefined;
      if (!gw) return;
      await bound(unmapAll(gw));
      gw.close();
      status = { state: "off", reason: "node stopped" };
    },
  };
}

/**
 * An AbortSignal that aborts after `ms` on `clock`. Like AbortSignal.timeout,
 * whose timer it replaces, it does not keep the process alive.
 */
function timeoutSignal(clock: Clock, ms: number): AbortSignal {
  const ac = new AbortController();
  const id = clock.setTimeout(() => ac.abort(new DOMException("timed out", "TimeoutError")), ms);
  clock.unref(id);
  return ac.signal;
}

async function findUpnp(signal: AbortSignal, _clock: Clock): Promise<Mapper | undefined> {
  const gw = await UpnpGateway.find(DESCRIPTION, signal);
  if (!gw) return undefined;
  return {
    method: "upnp",
    host: gw.host,
    found: "gateway answered the SSDP search",
    externalIp: (s) => gw.externalIp(s),
    map: (...args) => gw.map(...args),
    unmap: (protocol, _internalPort, externalPort, s) => gw.unmap(protocol, externalPort, s),
    close: () => gw.close(),
  };
}

// deno-lint-ignore require-await
async function findPmp(_signal: AbortSignal, clock: Clock): Promise<Mapper | undefined> {
  const found = defaultGateway();
  if (!found) return undefined;
  const pmp = new NatPmpClient(found.host, undefined, clock);
  return {
    method: "nat-pmp",
    host: found.host,
    found: found.source === "guess"
      ? "gateway guessed: the route table is not readable"
      : "gateway from the route table",
    externalIp: (s) => pmp.externalIp(s),
    // NAT-PMP maps the sender's address: the internal host is implied.
    map: (protocol, _internalHost, internalPort, externalPort, leaseS, s) =>
      pmp.map(protocol, internalPort, externalPort, leaseS, s),
    unmap: (protocol, internalPort, _externalPort, s) => pmp.unmap(protocol, internalPort, s),
    close: () => {},
  };
}

/** Where a router's external address says another NAT sits outside it. */
const BEHIND_ANOTHER_NAT: ReadonlySet<IpKind> = new Set(["private", "cgnat", "link-local"]);

/** A private, carrier-grade NAT or link-local IPv4 address. */
export function behindAnotherNat(ip: string): boolean {
  const a = parseIp(ip);
  return a?.family === 4 && BEHIND_ANOTHER_NAT.has(ipKind(a));
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "";
}

/** A gateway's failure as a code: no answer in time, else a refusal. */
function missOf(err: unknown): PortMapMiss {
  const name = (err as Error | undefined)?.name;
  return isRojError(err, "timeout") || name === "TimeoutError" || name === "AbortError"
    ? "no-answer"
    : "refused";
}

function oneLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0]!.slice(0, 200);
}
