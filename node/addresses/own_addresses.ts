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
import { isLoopback } from "../reach/mod.ts";
import {
  type Endpoint,
  formatEndpoint,
  parseEndpoint,
  publishableAddresses,
  unmapIPv4,
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
}

const isWildcard = (host: string) => host === "0.0.0.0" || host === "::";
/** Most addresses published at once. */
const MAX_PUBLISHED = 8;

export class OwnAddresses {
  readonly #d: OwnAddressesDeps;
  /** IPs peers report seeing us at, for publishing when we listen everywhere. */
  readonly #seenAs = new Set<string>();
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

  /** A peer tells us the address it sees us at; publish it if we listen everywhere and it is new. */
  noteSeenAs(rpc: RpcSession): void {
    const sees = rpc.peerHello?.sees;
    const a = this.#d.listening();
    if (!sees || !a || !isWildcard(a.host) || this.#d.advertise.length > 0) return;
    try {
      const ip = unmapIPv4(parseEndpoint(sees).host); // an older peer may say ::ffff:a.b.c.d
      if (this.#seenAs.has(ip) || isLoopback(ip)) return;
      this.#seenAs.add(ip);
      this.#d.bus.say(`a peer sees us at ${ip}`);
      this.#d.bus.emit({ type: "seen-as", address: ip });
      this.#d.changed("a peer sees us at a new address");
    } catch { /* not an address */ }
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
