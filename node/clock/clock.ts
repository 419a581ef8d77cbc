/**
 * The node's one source of time, timers and protocol randomness.
 *
 * Every decision that depends on "now", on a delay or on a coin toss (retry
 * jitter, forward delays, back-off) goes through a `Clock`, so that a test can
 * drive a whole node, or a hundred of them, with a `FakeClock` instead of
 * sleeping. Key material is the exception: it comes from
 * `crypto.getRandomValues`, never from here.
 *
 * @example
 * ```ts
 * import { systemClock } from "./clock.ts";
 * const t = systemClock.setTimeout(() => console.log("later"), 10);
 * systemClock.clearTimeout(t);
 * ```
 */

/** An opaque timer handle, given back to `clearTimeout` / `clearInterval`. */
export type TimerId = number | ReturnType<typeof setTimeout>;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** A number in [0, 1) for jitter and tie-breaking; never for keys. */
  random(): number;
  /** Runs `fn` once after `ms`. */
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId | undefined): void;
  /** Runs `fn` every `ms`. */
  setInterval(fn: () => void, ms: number): TimerId;
  clearInterval(id: TimerId | undefined): void;
  /**
   * A timer that does not keep the process alive (a background flush, a
   * lease renewal). Fake clocks treat it like any other timer.
   */
  unref(id: TimerId): void;
}

/** The real clock: `Date.now`, `Math.random` and the runtime's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  random: () => Math.random(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (id) => clearInterval(id),
  unref: (id) => Deno.unrefTimer(id as ReturnType<typeof setTimeout>),
};

/**
 * Resolves after `ms` on `clock`; rejects with the signal's reason if it is
 * aborted first.
 * @throws the abort reason
 */
export function delay(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimeout(id);
      reject(signal!.reason);
    };
    const id = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Races `promise` against a timer on `clock`: resolves with `onTimeout()`'s
 * value when `ms` pass first, and clears the timer either way.
 */
export function withTimeout<T, U>(
  clock: Clock,
  promise: Promise<T>,
  ms: number,
  onTimeout: () => U,
): Promise<T | U> {
  let id: TimerId | undefined;
  return Promise.race([
    promise,
    new Promise<U>((resolve) => {
      id = clock.setTimeout(() => resolve(onTimeout()), ms);
    }),
  ]).finally(() => clock.clearTimeout(id));
}
