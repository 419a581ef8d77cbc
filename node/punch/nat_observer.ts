/**
 * Our NAT, as coordinators see it: every probe's answer is where that
 * coordinator saw our UDP endpoint; once two at different endpoints have
 * answered, two different ports there mean a symmetric NAT (node/reach).
 */
import { classifyMapping, type MappingObservation, type NatMapping } from "../reach/mod.ts";
import { type Endpoint, formatEndpoint } from "../transport/mod.ts";
import type { PunchNote } from "./punch_host.ts";
import { parseUdpEndpoint } from "./udp_endpoint.ts";

/**
 * How long a coordinator's view of our endpoint stands for our NAT. After
 * that the NAT is looked at again (a laptop moves to another network).
 */
export const MAPPING_TTL_MS = 10 * 60_000;
/** Observers kept for the NAT verdict; two suffice, a few more cost nothing. */
const MAX_OBSERVERS = 8;

/** The NAT verdict from the newest observation per coordinator endpoint. */
export class NatObserver {
  /** Where coordinators saw our UDP endpoint, newest per observer endpoint, with when. */
  readonly #seen = new Map<string, MappingObservation & { readonly at: number }>();
  #mapping: NatMapping = { kind: "unknown" };
  readonly #log: (line: string) => void;
  readonly #note: (n: PunchNote) => void;

  /** `log` says a new verdict for people, `note` tells it with the observations it rests on. */
  constructor(log: (line: string) => void, note: (n: PunchNote) => void = () => {}) {
    this.#log = log;
    this.#note = note;
  }

  /** The verdict at `now`, observations older than MAPPING_TTL_MS left out. */
  mapping(now: number): NatMapping {
    let expired = false;
    for (const [k, o] of this.#seen) {
      if (now - o.at > MAPPING_TTL_MS) {
        this.#seen.delete(k);
        expired = true;
      }
    }
    if (expired) this.#classify();
    return this.#mapping;
  }

  /** The verdict as last worked out (no expiry). */
  get current(): NatMapping {
    return this.#mapping;
  }

  /** A coordinator at `observer` saw our endpoint at `seen` ("ip:port") at `now`. */
  note(observer: Endpoint, seen: string, now: number): void {
    let at: Endpoint;
    try {
      at = parseUdpEndpoint(seen);
    } catch {
      return; // a coordinator's word is no address: ignore it
    }
    const key = formatEndpoint(observer);
    this.#seen.delete(key);
    this.#seen.set(key, { observer: key, seenHost: at.host, seenPort: at.port, at: now });
    while (this.#seen.size > MAX_OBSERVERS) this.#seen.delete(this.#seen.keys().next().value!);
    this.#classify();
  }

  #classify(): void {
    const next = classifyMapping([...this.#seen.values()]);
    if (next.kind === this.#mapping.kind) {
      this.#mapping = next;
      return;
    }
    this.#mapping = next;
    this.#note({
      type: "nat-mapping",
      mapping: next.kind,
      observations: [...this.#seen.values()].map((o) => ({
        observer: o.observer,
        host: o.seenHost,
        port: o.seenPort,
      })),
    });
    if (next.kind === "symmetric") {
      this.#log(
        `behind a symmetric NAT: ${next.reason}; no punched paths, contacts come through relays`,
      );
    } else if (next.kind === "endpoint-independent") {
      this.#log(`our NAT keeps one UDP port for every destination: ${next.reason}`);
    }
  }
}
