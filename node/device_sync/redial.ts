/**
 * Dialling a key again after a back-off that grows while it does not answer
 * (peers/backoff.ts), one timer per key, all on the node's Clock.
 */
import type { Clock, TimerId } from "../clock/mod.ts";
import { backoffDelay } from "../peers/mod.ts";

export class Redial {
  readonly #clock: Clock;
  readonly #dial: (key: string) => void;
  readonly #maxMs: number;
  readonly #attempts = new Map<string, number>();
  readonly #timers = new Map<string, TimerId>();
  #closed = false;

  /** `dial` runs for a key (hex) when its wait is over. */
  constructor(clock: Clock, dial: (key: string) => void, maxMs = 60_000) {
    this.#clock = clock;
    this.#dial = dial;
    this.#maxMs = maxMs;
  }

  /** Dials `key` after its next wait (1 s, doubling up to the maximum, with jitter). */
  schedule(key: string): void {
    if (this.#closed || this.#timers.has(key)) return;
    const attempt = this.#attempts.get(key) ?? 0;
    this.#attempts.set(key, attempt + 1);
    const ms = backoffDelay(attempt, {
      initialMs: 1000,
      maxMs: this.#maxMs,
      random: () => this.#clock.random(),
    });
    this.#timers.set(
      key,
      this.#clock.setTimeout(() => {
        this.#timers.delete(key);
        if (!this.#closed) this.#dial(key);
      }, ms),
    );
  }

  /** `key` answered: its next wait starts from the first again. */
  reached(key: string): void {
    this.#attempts.delete(key);
  }

  /** `key` is gone for good (a removed device): no dial is pending, and a later one starts afresh. */
  forget(key: string): void {
    this.#clock.clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    this.#attempts.delete(key);
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers.values()) this.#clock.clearTimeout(t);
    this.#timers.clear();
  }
}
