/**
 * How far a chat has come in taking in a peer's entries, for people to see:
 * a member back after weeks away should see "1,200 of 10,000" rather than
 * silence. Counts only catch-ups of at least `minTotal` entries; reports at
 * the start, at most every `everyMs`, and at the end. Pure: the caller feeds
 * it heads and stored counts, and passes the time in.
 */
import { systemClock } from "../clock/mod.ts";
import { lackCount, lacking } from "./reconcile.ts";

export interface CatchUpProgress {
  readonly done: number;
  readonly total: number;
}

export interface CatchUpOptions {
  /** Smaller catch-ups are not reported. @default 100 */
  readonly minTotal?: number;
  /** Least time between two reports, in ms. @default 250 */
  readonly everyMs?: number;
  /** @default systemClock.now */
  readonly now?: () => number;
}

export class CatchUp {
  readonly #report: (p: CatchUpProgress) => void;
  readonly #minTotal: number;
  readonly #everyMs: number;
  readonly #now: () => number;
  #expected = false;
  #total = 0;
  #done = 0;
  #last = 0;

  constructor(report: (p: CatchUpProgress) => void, options: CatchUpOptions = {}) {
    this.#report = report;
    this.#minTotal = options.minTotal ?? 100;
    this.#everyMs = options.everyMs ?? 250;
    this.#now = options.now ?? systemClock.now;
  }

  /** Under way: the progress so far; null when there is none to show. */
  get progress(): CatchUpProgress | null {
    return this.#total > 0 ? { done: this.#done, total: this.#total } : null;
  }

  /**
   * The peer's heads and ours when a sync starts: what we lack is the total.
   * Only the first call counts (later heads answer our own pushes).
   */
  expect(
    theirs: ReadonlyMap<string, { seq: number }>,
    ours: ReadonlyMap<string, { seq: number }>,
  ): void {
    if (this.#expected) return;
    this.#expected = true;
    const missing = lackCount(lacking(theirs, (k) => ours.get(k)?.seq ?? 0));
    if (missing < this.#minTotal) return;
    this.#total = missing;
    this.#done = 0;
    this.#last = this.#now();
    this.#report({ done: 0, total: missing });
  }

  /** `n` entries from the peer were stored. */
  stored(n: number): void {
    if (this.#total === 0) return;
    this.#advance(Math.min(this.#total, this.#done + n));
  }

  /**
   * `n` entries are still missing, as our heads now say: the count that does
   * not depend on which batches were seen, nor on their order with the heads.
   */
  left(n: number): void {
    if (this.#total === 0) return;
    this.#advance(Math.max(this.#done, this.#total - Math.max(0, n)));
  }

  #advance(done: number): void {
    this.#done = done;
    if (this.#done >= this.#total) {
      const total = this.#total;
      this.#total = 0;
      this.#report({ done: total, total });
    } else if (this.#now() - this.#last >= this.#everyMs) {
      this.#last = this.#now();
      this.#report({ done: this.#done, total: this.#total });
    }
  }

  /** The session ended: stop counting (what was missed is caught up next time). */
  end(): void {
    this.#total = 0;
  }
}
