/**
 * The addresses this node publishes in its sealed record and its invites:
 * the advertised ones if any (a VPS name, a port forward), else a router's
 * port mapping, the listening address, or, listening everywhere, every
 * publishable interface address and what peers report seeing us at. Also
 * tells the cascade when they change (a new network, a peer's report).
 */
import type { Clock, TimerId } from "../clock/mod.ts";
import type { EventBus } from "../events.ts";
import type { RpcSession } from "../protocol/mod.ts";
import { formatIp, type IpKind, ipKindOf, parseIp, unmapIp } from "../ip/mod.ts";
import { toHex } from "../log/mod.ts";
import {
  type Endpoint,
  formatEndpoint,
  parseEndpoint,
  publishableAddresses,
} from "../transport/mod.ts";

export interface OwnAddressesDeps {
  readonly clock: Clock;
  readonly bus: EventBus;
  /** Canonical "host:port" forms from --advertise. */
  readonly advertise: readonly string[];
  /** Where the SSH server listens, once it does. */
  listening(): Endpoint | undefined;
  /** The router's mapped address for our port, if any (node/portmap). */
  mapped(): string | undefined;
  /** What we publish changed, or may have: run the cascade. */
  changed(reason: string): void;
  /** The machine's interfaces. @default Deno.networkInterfaces */
  interfaces?(): Deno.NetworkInterfaceInfo[];
  /** Dials `to` and says whether our own host key answers there (a peer's report confirmed). */
  selfDial?(to: Endpoint): Promise<boolean>;
}

const isWildcard = (host: string) => host === "0.0.0.0" || host === "::";
/** Most addresses published at once. */
const MAX_PUBLISHED = 8;
/** Unconfirmed reported addresses kept, and reporters kept per address. */
const MAX_REPORTED_ADDRESSES = 16;
const MAX_REPORTERS = 8;
/** Kinds of address a peer's report may name (private: a peer behind the same larger NAT). */
const REPORTABLE: ReadonlySet<IpKind> = new Set(["global", "private", "cgnat"]);

/**
 * The network a peer reached us from, as a prefix (/24 for IPv4, /48 for
 * IPv6): two reports count as independent only from different networks.
 * Null when the session's remote is no IP (a relayed session).
 */
function networkOf(remote: string | undefined): string | null {
  if (!remote) return null;
  try {
    const ip = parseIp(parseEndpoint(remote).host);
    if (!ip) return null;
    const u = unmapIp(ip);
    return `${u.family}:${toHex(u.bytes.subarray(0, u.family === 4 ? 3 : 6))}`;
  } catch {
    return null;
  }
}

export class OwnAddresses {
  readonly #d: OwnAddressesDeps;
  /** IPs peers see us at, confirmed (see noteSeenAs), for publishing when we listen everywhere. */
  readonly #seenAs = new Set<string>();
  /** Reports not confirmed yet: address → reporter (hex) → the reporter's network, if known. */
  readonly #reports = new Map<string, Map<string, string | null>>();
  /** Addresses already dialled to look for our own key. */
  readonly #selfChecked = new Set<string>();
  #timer: TimerId | undefined;
  #interfaces = "";

  constructor(deps: OwnAddressesDeps) {
    this.#d = deps;
  }

  /** What the record and invites carry now. */
  published(): string[] {
    return this.#d.advertise.length > 0 ? [...this.#d.advertise] : this.listenAddresses();
  }

  /** The address to dial out from, so that peers see the one we listen on (none for a wildcard). */
  localAddress(): string | undefined {
    const a = this.#d.listening();
    return a && !isWildcard(a.host) ? a.host : undefined;
  }

  /** The addresses we can be reached at, ignoring --advertise. */
  listenAddresses(): string[] {
    const a = this.#d.listening();
    if (!a) return [];
    // A router's port mapping first: it is the address that works from outside.
    const external = this.#d.mapped();
    const mapped = external ? [external] : [];
    if (!isWildcard(a.host)) return [...mapped, formatEndpoint(a)];
    // Listening everywhere: every non-loopback interface address, then what peers see us at.
    const seen = [...this.#seenAs].map((ip) => formatEndpoint({ host: ip, port: a.port }));
    const local = this.#interfaceAddresses();
    if (local === null) return [formatEndpoint({ host: "127.0.0.1", port: a.port })];
    return mapped.concat(local.map((host) => formatEndpoint({ host, port: a.port })))
      .concat(seen)
      .filter((x, i, all) => all.indexOf(x) === i)
      .slice(0, MAX_PUBLISHED);
  }

  /** The machine's addresses to publish (transport/publishableAddresses); null when they cannot be read. */
  #interfaceAddresses(): string[] | null {
    try {
      const list = this.#d.interfaces ? this.#d.interfaces() : Deno.networkInterfaces();
      return publishableAddresses(list, this.#d.listening()?.host === "::");
    } catch {
      return null;
    }
  }

  /**
   * A peer tells us the address it sees us at (its hello's `sees`). Anyone who
   * is a contact can say anything there, and what we publish is dialled by all
   * our other contacts, so a report is published only once confirmed: the
   * same address reported by peers on two different networks, or a dial to it
   * answered by our own host key. A host name is never taken; nor a loopback,
   * link-local, multicast or reserved address.
   */
  noteSeenAs(rpc: RpcSession, reporter: Uint8Array): void {
    const sees = rpc.peerHello?.sees;
    const a = this.#d.listening();
    if (!sees || !a || !isWildcard(a.host) || this.#d.advertise.length > 0) return;
    let host: string;
    try {
      host = parseEndpoint(sees).host;
    } catch {
      return; // not "host:port"
    }
    const parsed = parseIp(host);
    if (!parsed) return; // a host name from a peer is never published
    const ip = formatIp(unmapIp(parsed));
    if (this.#seenAs.has(ip) || !REPORTABLE.has(ipKindOf(ip) ?? "reserved")) return;
    const reports = this.#report(ip, toHex(reporter), networkOf(rpc.pipe.remote));
    if (new Set([...reports.values()].filter((n) => n !== null)).size >= 2) {
      this.#confirm(ip, "peers on two networks see us there");
      return;
    }
    const selfDial = this.#d.selfDial;
    if (!selfDial || this.#selfChecked.has(ip) || ipKindOf(ip) !== "global") return;
    if (this.#selfChecked.size >= MAX_REPORTED_ADDRESSES * 8) this.#selfChecked.clear();
    this.#selfChecked.add(ip);
    selfDial({ host: ip, port: a.port }).then((ours) => {
      if (ours) this.#confirm(ip, "our own key answers there");
    }).catch(() => {});
  }

  /** Notes that `reporter` (hex), on `network`, sees us at `ip`; bounded in addresses and reporters. */
  #report(ip: string, reporter: string, network: string | null): Map<string, string | null> {
    let reports = this.#reports.get(ip);
    if (!reports) {
      if (this.#reports.size >= MAX_REPORTED_ADDRESSES) {
        this.#reports.delete(this.#reports.keys().next().value!);
      }
      this.#reports.set(ip, reports = new Map());
    }
    if (reports.has(reporter) || reports.size < MAX_REPORTERS) reports.set(reporter, network);
    return reports;
  }

  #confirm(ip: string, why: string): void {
    if (this.#seenAs.has(ip) || this.#seenAs.size >= MAX_PUBLISHED) return;
    this.#reports.delete(ip);
    this.#seenAs.add(ip);
    this.#d.bus.say(`a peer sees us at ${ip} (${why})`);
    this.#d.bus.emit({ type: "seen-as", address: ip });
    this.#d.changed("a peer sees us at a new address");
  }

  /**
   * When listening everywhere, a new interface address (a new network)
   * restarts the cascade; looked for every `everyMs`. Only the interfaces:
   * an address a peer reports triggers the cascade itself (noteSeenAs).
   */
  watch(everyMs: number): void {
    const a = this.#d.listening();
    if (!a || !isWildcard(a.host) || this.#d.advertise.length > 0 || this.#timer) return;
    this.#interfaces = (this.#interfaceAddresses() ?? []).join(",");
    this.#timer = this.#d.clock.setInterval(() => {
      const now = (this.#interfaceAddresses() ?? []).join(",");
      if (now === this.#interfaces) return;
      this.#interfaces = now;
      this.#d.bus.say(`local addresses changed: ${now || "none"}`);
      this.#d.bus.emit({ type: "local-addresses", addresses: now ? now.split(",") : [] });
      this.#d.changed("local addresses changed");
    }, everyMs);
  }

  close(): void {
    this.#d.clock.clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
