/**
 * Saying a repeated line once, then once per window with a count.
 *
 * A peer that keeps pushing what we refuse (or refusing what we push) does so
 * on every pass and every new session: logged each time, that was thousands
 * of lines a minute. The first time a line is said it goes out; repeats
 * within `windowMs` are only counted; the first repeat after the window goes
 * out once with that count ("… (4,210 times more in 10 min)"). Lines are told
 * apart by their text with every run of digits taken as one (a refusal of
 * "entry 4", then "entry 5", is the same refusal again).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RepeatThrottle } from "./repeat_throttle.ts";
 *
 * const t = new RepeatThrottle({ windowMs: 60_000 });
 * assert.equal(t.admit("bob refused entries", 0), "bob refused entries");
 * assert.equal(t.admit("bob refused entries", 10), null);
 * assert.equal(t.admit("bob refused entries", 60_010), "bob refused entries (2 times more in 1 min)");
 * ```
 */

export interface RepeatThrottleOptions {
  /** How long repeats are only counted. @default 600_000 (10 min) */
  readonly windowMs?: number;
  /** Distinct lines remembered; the oldest is forgotten past it. @default 1024 */
  readonly maxLines?: number;
}

export class RepeatThrottle {
  readonly #windowMs: number;
  readonly #max: number;
  /** Per line: repeats not yet told, and when it was last said. */
  readonly #lines = new Map<string, { count: number; said: number }>();

  constructor(options: RepeatThrottleOptions = {}) {
    this.#windowMs = options.windowMs ?? 600_000;
    this.#max = options.maxLines ?? 1024;
  }

  /** The line to say now for `line` said at `now` (ms), or null to stay quiet. */
  admit(line: string, now: number): string | null {
    const key = line.replace(/[0-9]+/g, "#");
    const held = this.#lines.get(key);
    if (!held) {
      if (this.#lines.size >= this.#max) {
        this.#lines.delete(this.#lines.keys().next().value!);
      }
      this.#lines.set(key, { count: 0, said: now });
      return line;
    }
    held.count++;
    if (now - held.said < this.#windowMs) return null;
    const minutes = Math.max(1, Math.round((now - held.said) / 60_000));
    const text = `${line} (${held.count.toLocaleString("en")} times more in ${minutes} min)`;
    held.count = 0;
    held.said = now;
    return text;
  }
}
