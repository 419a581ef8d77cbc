/**
 * An in-memory network for unit tests and simulations: many nodes in one
 * process listen and dial by "host:port" without sockets, with the checks and
 * errors of the SSH transport (host key checked before anything is sent, the
 * dialler's key offered to the listener, refusals and unreachable addresses
 * as the same RojError codes), and an optional per-link delay on a clock, so
 * a hundred nodes run a cascade on a FakeClock in a fraction of a second.
 *
 * @example
 * ```ts
 * import { MemoryNetwork } from "./memory.ts";
 * import { generateKeyPair } from "../identity/mod.ts";
 * const net = new MemoryNetwork();
 * const [a, b] = [await generateKeyPair("a"), await generateKeyPair("b")];
 * const l = await net.listen({
 *   keyPair: b, address: "10.0.0.2:7022", authorize: () => true,
 *   onPipe: ({ pipe }) => pipe.onData((c) => pipe.send(c)),
 * });
 * const { pipe } = await net.dial({ keyPair: a, address: l.address, expectedKey: b.publicKey });
 * pipe.close();
 * await l.close();
 * ```
 */
import { type Clock, delay, systemClock, type TimerId } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import { fingerprint } from "../identity/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { closingWith, memoryPipePair, type Pipe } from "./pipe.ts";
import { formatEndpoint, parseEndpoint } from "./ssh.ts";
import {
  type DialSpec,
  type ListenSpec,
  type OutboundPipe,
  parseListenAddress,
  type Transport,
  type TransportListener,
} from "./transport.ts";

/** Options for {@linkcode MemoryNetwork}. */
export interface MemoryNetworkOptions {
  /** Runs the delays and dial timeouts. @default systemClock */
  readonly clock?: Clock;
  /** One-way delay of every link in ms, unless setDelay says otherwise. @default 0 */
  readonly delayMs?: number;
}

/** What the network carried, for assertions on the work a simulation took. */
export interface MemoryNetworkStats {
  /** Dials started. */
  dials: number;
  /** Dials that got a pipe. */
  connected: number;
  /** Dials that failed: nobody listening, wrong key, refused, dropped. */
  failed: number;
}

interface Listening {
  readonly spec: ListenSpec;
  readonly pipes: Set<Pipe>;
}

/** A network of in-memory listeners; one instance is one isolated network. */
export class MemoryNetwork implements Transport {
  readonly #clock: Clock;
  readonly #delayMs: number;
  readonly #listeners = new Map<string, Listening>();
  readonly #links = new Map<string, number>();
  readonly #dropped = new Set<string>();
  #nextPort = 40_000;
  readonly stats: MemoryNetworkStats = { dials: 0, connected: 0, failed: 0 };

  constructor(options: MemoryNetworkOptions = {}) {
    this.#clock = new SharedTimers(options.clock ?? systemClock);
    this.#delayMs = options.delayMs ?? 0;
  }

  /** Sets the one-way delay between two hosts (both directions). */
  setDelay(hostA: string, hostB: string, ms: number): void {
    this.#links.set(linkKey(hostA, hostB), ms);
  }

  /**
   * Dials to `host` go unanswered until they time out (a router that drops
   * them), instead of being refused; `false` undoes it.
   */
  drop(host: string, dropped = true): void {
    if (dropped) this.#dropped.add(host);
    else this.#dropped.delete(host);
  }

  /** Whether something listens at "host:port". */
  listening(address: string): boolean {
    return this.#listeners.has(normalise(address));
  }

  listen(spec: ListenSpec): Promise<TransportListener> {
    const at = parseListenAddress(spec.address);
    const port = at.port === 0 ? this.#freePort(at.host) : at.port;
    const address = formatEndpoint({ host: at.host, port });
    if (this.#listeners.has(address)) {
      return Promise.reject(
        new RojError("bad_input", `cannot listen on ${address}: address in use`),
      );
    }
    const entry: Listening = { spec, pipes: new Set() };
    this.#listeners.set(address, entry);
    return Promise.resolve({
      address,
      close: () => {
        if (this.#listeners.get(address) === entry) this.#listeners.delete(address);
        for (const p of entry.pipes) p.close("listener closed");
        entry.pipes.clear();
        return Promise.resolve();
      },
    });
  }

  async dial(spec: DialSpec): Promise<OutboundPipe> {
    this.stats.dials++;
    try {
      return await this.#dial(spec);
    } catch (err) {
      this.stats.failed++;
      throw err;
    }
  }

  async #dial(spec: DialSpec): Promise<OutboundPipe> {
    const to = parseEndpoint(spec.address);
    const where = formatEndpoint(to);
    const name = spec.expectedName ?? fingerprint(spec.expectedKey);
    const fromHost = spec.localAddress ?? "memory";
    const oneWay = this.#links.get(linkKey(fromHost, to.host)) ?? this.#delayMs;
    const gaveUp = () =>
      new RojError("unreachable", `${where}: not needed any more`, { retryable: true });
    if (spec.signal?.aborted) throw gaveUp();
    if (this.#dropped.has(to.host)) {
      await delay(this.#clock, spec.timeoutMs ?? 5000, spec.signal).catch(() => {
        throw gaveUp();
      });
      throw new RojError("unreachable", `${where} did not answer in time`, { retryable: true });
    }
    // A round trip to connect and one for the keys, as a TCP and SSH handshake take at least.
    if (oneWay > 0) {
      await delay(this.#clock, 4 * oneWay, spec.signal).catch(() => {
        throw gaveUp();
      });
    }
    const entry = this.#listeners.get(where);
    if (!entry) {
      throw new RojError("unreachable", `${where}: connection refused`, { retryable: true });
    }
    const hostKey = entry.spec.keyPair.publicKey;
    if (!bytesEqual(hostKey, spec.expectedKey)) {
      throw new RojError(
        "protocol",
        `${where} answered with key ${fingerprint(hostKey)} which is not ${name}`,
      );
    }
    if (!entry.spec.authorize(spec.keyPair.publicKey)) {
      throw new RojError("refused", `${name} at ${where} did not accept our key`);
    }
    const from = formatEndpoint({ host: fromHost, port: this.#freePort(fromHost) });
    const [ours, theirs] = memoryPipePair(from, where, { clock: this.#clock, delayMs: oneWay });
    entry.pipes.add(theirs);
    this.stats.connected++;
    entry.spec.onPipe({
      publicKey: spec.keyPair.publicKey,
      remote: from,
      pipe: closingWith(theirs, () => entry.pipes.delete(theirs)),
    });
    return { remoteKey: hostKey, pipe: ours };
  }

  #freePort(host: string): number {
    for (;;) {
      const port = this.#nextPort++;
      if (this.#nextPort > 65_535) this.#nextPort = 40_000;
      if (!this.#listeners.has(formatEndpoint({ host, port }))) return port;
    }
  }
}

/**
 * `base`, with the timers due at the same moment run by one timer of `base`
 * (in the order they were set): a hive's links deliver thousands of chunks
 * at the same few moments of a fake clock, which then has far fewer timers
 * to run, and settle between.
 */
class SharedTimers implements Clock {
  readonly #base: Clock;
  readonly #batches = new Map<number, { id: TimerId; fns: Map<number, () => void> }>();
  readonly #dueOf = new Map<number, number>();
  #nextId = 1;

  constructor(base: Clock) {
    this.#base = base;
  }

  now = () => this.#base.now();
  random = () => this.#base.random();
  setInterval = (fn: () => void, ms: number) => this.#base.setInterval(fn, ms);
  clearInterval = (id: TimerId | undefined) => this.#base.clearInterval(id);
  unref = (id: TimerId) => this.#base.unref(id);

  setTimeout(fn: () => void, ms: number): TimerId {
    const due = this.#base.now() + Math.max(0, ms);
    const id = this.#nextId++;
    let batch = this.#batches.get(due);
    if (!batch) {
      const fns = new Map<number, () => void>();
      batch = {
        fns,
        id: this.#base.setTimeout(() => {
          this.#batches.delete(due);
          for (const [k, f] of fns) {
            this.#dueOf.delete(k);
            f();
          }
        }, ms),
      };
      this.#batches.set(due, batch);
    }
    batch.fns.set(id, fn);
    this.#dueOf.set(id, due);
    return id;
  }

  clearTimeout(id: TimerId | undefined): void {
    const due = typeof id === "number" ? this.#dueOf.get(id) : undefined;
    if (due === undefined) return;
    this.#dueOf.delete(id as number);
    const batch = this.#batches.get(due)!;
    batch.fns.delete(id as number);
    if (batch.fns.size === 0) {
      this.#base.clearTimeout(batch.id);
      this.#batches.delete(due);
    }
  }
}

function normalise(address: string): string {
  return formatEndpoint(parseEndpoint(address));
}

function linkKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
