/**
 * Index changes held back while messages pour in, and applied in slices once
 * they stop (or a search needs them): a catch-up of thousands of entries no
 * longer pays for the full-text index entry by entry on its way to the
 * screen. A search first applies everything held (`flush`), so it always
 * answers from every message shown so far. Bounded: past MAX_HELD changes,
 * or when the oldest has waited MAX_WAIT_MS, they are applied at once.
 */
import type { Clock, TimerId } from "../clock/mod.ts";
import type { SearchDoc } from "./query.ts";
import type { SearchIndex } from "./search_index.ts";

/** Changes held at most before they are applied there and then. */
export const MAX_HELD = 50_000;
/** Quiet (no new change) before held changes are applied. */
export const QUIET_MS = 200;
/** Longest a change is held, however busy the node. */
export const MAX_WAIT_MS = 5_000;
/** Changes applied per turn of the event loop while applying. */
export const SLICE = 2_000;

/** A change: a message (re)indexed, after its earlier text is forgotten when `replace`. */
interface Change {
  readonly doc: SearchDoc | null;
  /** Forget this id first (an edit or a deletion shows the message again). */
  readonly drop?: string;
}

export class IndexQueue {
  readonly #index: SearchIndex;
  readonly #clock: Clock;
  #held: Change[] = [];
  /** When the newest and the oldest held change came. */
  #last = 0;
  #first = 0;
  #timer: TimerId | undefined;
  #closed = false;

  constructor(index: SearchIndex, clock: Clock) {
    this.#index = index;
    this.#clock = clock;
  }

  /** Changes held, not yet in the index. */
  get held(): number {
    return this.#held.length;
  }

  /** Indexes `doc` (when not null), having forgotten `drop` first, soon. */
  add(doc: SearchDoc | null, drop?: string): void {
    if (this.#closed || (doc === null && drop === undefined)) return;
    const now = this.#clock.now();
    if (this.#held.length === 0) this.#first = now;
    this.#last = now;
    this.#held.push(drop === undefined ? { doc } : { doc, drop });
    if (this.#held.length >= MAX_HELD) this.flush();
    else this.#timer ??= this.#clock.setTimeout(() => this.#due(), QUIET_MS);
  }

  /** Applies every held change now. */
  flush(): void {
    this.#apply(this.#held.length);
  }

  close(): void {
    this.#closed = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#held = [];
  }

  #due(): void {
    this.#timer = undefined;
    if (this.#closed || this.#held.length === 0) return;
    const now = this.#clock.now();
    const quiet = now - this.#last;
    if (quiet < QUIET_MS && now - this.#first < MAX_WAIT_MS) {
      this.#timer = this.#clock.setTimeout(() => this.#due(), QUIET_MS - quiet);
      return;
    }
    this.#apply(SLICE);
    if (this.#held.length > 0) this.#timer = this.#clock.setTimeout(() => this.#due(), 0);
  }

  #apply(n: number): void {
    const some = this.#held.length <= n ? this.#held : this.#held.slice(0, n);
    this.#held = some === this.#held ? [] : this.#held.slice(n);
    // What is left counts as waiting since now: it is next in line.
    this.#first = this.#clock.now();
    for (const c of some) {
      if (c.drop !== undefined) this.#index.remove(c.drop);
      if (c.doc) this.#index.add(c.doc);
    }
    if (this.#held.length === 0 && this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}
