/**
 * How many SSH authentication attempts a source may make: a token bucket per
 * source address, and a cap per connection. A stranger probing which keys a
 * node accepts (the public halves of people's ~/.ssh keys are often
 * published) gets a few dozen answers, all alike, then nothing for a while.
 * The attempts of a connection that logs in are given back, so contacts
 * sharing an address (a hive on one machine, a household behind one NAT)
 * never run the bucket dry.
 *
 * Pure but for the clock: `take` decides, `drain` hands out the counts of
 * refused attempts for the log.
 */
import type { Clock } from "../clock/mod.ts";

export interface AuthThrottleOptions {
  /** Attempts a source may make at once. @default 64 */
  readonly burst?: number;
  /** Attempts a source regains per second. @default 8 */
  readonly perSecond?: number;
  /** Sources remembered; the least recently seen is forgotten first. @default 4096 */
  readonly maxSources?: number;
}

/** Attempts one SSH connection may make before it is dropped (OpenSSH's MaxAuthTries is 6). */
export const MAX_AUTH_PER_CONNECTION = 12;

interface Bucket {
  tokens: number;
  at: number;
  /** Attempts refused since the last drain. */
  refused: number;
}

export class AuthThrottle {
  readonly #clock: Clock;
  readonly #burst: number;
  readonly #perMs: number;
  readonly #maxSources: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(clock: Clock, options: AuthThrottleOptions = {}) {
    this.#clock = clock;
    this.#burst = options.burst ?? 64;
    this.#perMs = (options.perSecond ?? 8) / 1000;
    this.#maxSources = options.maxSources ?? 4096;
  }

  /**
   * One attempt from `source`: true when it may be answered. A refusal is
   * counted; `firstRefusal` says whether it is the first since the last drain.
   */
  take(source: string): { readonly ok: boolean; readonly firstRefusal: boolean } {
    const now = this.#clock.now();
    let b = this.#buckets.get(source);
    if (b) this.#buckets.delete(source); // re-inserted below: the map is kept in recency order
    else {
      if (this.#buckets.size >= this.#maxSources) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
      b = { tokens: this.#burst, at: now, refused: 0 };
    }
    b.tokens = Math.min(this.#burst, b.tokens + Math.max(0, now - b.at) * this.#perMs);
    b.at = now;
    this.#buckets.set(source, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, firstRefusal: false };
    }
    b.refused++;
    return { ok: false, firstRefusal: b.refused === 1 };
  }

  /** A connection from `source` logged in: the `attempts` it spent are given back. */
  refund(source: string, attempts: number): void {
    const b = this.#buckets.get(source);
    if (b) b.tokens = Math.min(this.#burst, b.tokens + attempts);
  }

  /** Sources with attempts refused since the last drain, with their counts; the counts restart. */
  drain(): Array<{ readonly source: string; readonly refused: number }> {
    const out: Array<{ source: string; refused: number }> = [];
    for (const [source, b] of this.#buckets) {
      if (b.refused > 0) out.push({ source, refused: b.refused });
      b.refused = 0;
    }
    return out;
  }
}
