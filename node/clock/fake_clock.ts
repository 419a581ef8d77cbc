/**
 * A clock that moves only when told to, for tests and simulations: timers run
 * in due order (ties in the order they were set) as `advance` or
 * `runUntilIdle` pass their time, with pending promise work settled between
 * two timers, so a chain "await a request, then set a retry timer" unfolds as
 * it would in real time, without sleeping.
 *
 * @example
 * ```ts
 * import { FakeClock } from "./fake_clock.ts";
 * const clock = new FakeClock({ start: 0, seed: 1 });
 * let fired = 0;
 * clock.setTimeout(() => fired++, 1000);
 * await clock.advance(999);   // fired === 0
 * await clock.advance(1);     // fired === 1
 * ```
 */
import process from "node:process";
import type { Clock, TimerId } from "./clock.ts";
import { mulberry32 } from "./mulberry32.ts";

interface Timer {
  readonly id: TimerId;
  due: number;
  readonly order: number;
  readonly fn: () => void;
  /** Set for intervals. */
  readonly every?: number;
}

export interface FakeClockOptions {
  /** The time at which the clock starts, in ms since the epoch. @default 1_700_000_000_000 */
  readonly start?: number;
  /** Seeds `random()` (mulberry32). @default 1 */
  readonly seed?: number;
}

export class FakeClock implements Clock {
  #now: number;
  #seed: number;
  #nextId = 1;
  #order = 0;
  readonly #timers = new Map<TimerId, Timer>();
  /** Timers run so far (for assertions on the work a simulation took). */
  fired = 0;

  constructor(options: FakeClockOptions = {}) {
    this.#now = options.start ?? 1_700_000_000_000;
    this.#seed = (options.seed ?? 1) >>> 0;
  }

  now(): number {
    return this.#now;
  }

  random(): number {
    // mulberry32: small, fast, and replayable from the seed.
    const [value, next] = mulberry32(this.#seed);
    this.#seed = next;
    return value;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    return this.#add(fn, ms);
  }

  setInterval(fn: () => void, ms: number): TimerId {
    return this.#add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(id: TimerId | undefined): void {
    if (id !== undefined) this.#timers.delete(id);
  }

  clearInterval(id: TimerId | undefined): void {
    this.clearTimeout(id);
  }

  unref(_id: TimerId): void {}

  /** Timers waiting to run. */
  get pending(): number {
    return this.#timers.size;
  }

  /** When the next timer is due, or undefined when none is set. */
  get nextDue(): number | undefined {
    return this.#next()?.due;
  }

  /**
   * Moves the clock forward by `ms`, running every timer that falls due on the
   * way, each at its own time.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`advance needs ms >= 0, got ${ms}`);
    const end = this.#now + ms;
    await settle();
    for (let t = this.#next(); t && t.due <= end; t = this.#next()) {
      await this.#run(t);
    }
    this.#now = end;
    await settle();
  }

  /**
   * Runs timers in due order until none is left (quiescence), moving the
   * clock to each. Intervals would never end, so they count against
   * `maxTimers` like the rest.
   * @returns the ms of fake time that passed
   * @throws {Error} when more than `maxTimers` timers ran or `maxMs` of fake time passed
   */
  async runUntilIdle(options: { maxTimers?: number; maxMs?: number } = {}): Promise<number> {
    const maxTimers = options.maxTimers ?? 100_000;
    const start = this.#now;
    const limit = options.maxMs === undefined ? Infinity : start + options.maxMs;
    let ran = 0;
    await settle();
    for (let t = this.#next(); t; t = this.#next()) {
      if (++ran > maxTimers) throw new Error(`still busy after ${maxTimers} timers`);
      if (t.due > limit) throw new Error(`still busy after ${options.maxMs} ms of fake time`);
      await this.#run(t);
    }
    return this.#now - start;
  }

  #add(fn: () => void, ms: number, every?: number): TimerId {
    const id = this.#nextId++;
    const due = this.#now + Math.max(0, Number.isFinite(ms) ? ms : 0);
    this.#timers.set(id, { id, due, order: this.#order++, fn, ...(every ? { every } : {}) });
    return id;
  }

  #next(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers.values()) {
      if (!best || t.due < best.due || (t.due === best.due && t.order < best.order)) best = t;
    }
    return best;
  }

  async #run(t: Timer): Promise<void> {
    this.#now = Math.max(this.#now, t.due);
    if (t.every) this.#timers.set(t.id, { ...t, due: t.due + t.every, order: this.#order++ });
    else this.#timers.delete(t.id);
    this.fired++;
    t.fn();
    await settle();
  }
}

/**
 * Lets pending promise work run: microtasks, and the I/O callbacks that are
 * already due (a real KV commit or socket write started by a timer), by
 * yielding to the event loop `rounds` times. A MessageChannel round trip
 * yields like a timer would but is not clamped to 4 ms when nested, as
 * `setTimeout(0)` is (2,000 yields: 0.07 s instead of 5 s).
 */
export async function settle(rounds = 2): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    // Node streams (ssh2, a relay's splice) wait on process.nextTick, which a
    // MessageChannel turn does not run under Deno: a tick of our own runs after theirs.
    await new Promise<void>((resolve) => process.nextTick(resolve));
    await new Promise<void>((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        resolve();
      };
      ch.port2.postMessage(0);
    });
  }
}
