/**
 * Sync reconciliation as a pure plan: from our heads and what the peer is
 * known to hold, which entries it lacks (per author, a range of seqs), and how
 * a run of an author's entries is cut into pushes that fit a frame. ChatSync
 * (chat_sync.ts) does the reading and sending; CatchUp counts with it.
 *
 * @example
 * ```ts
 * import { cutBatches, lacking } from "./reconcile.ts";
 * const mine = new Map([["a1", { seq: 5 }], ["b2", { seq: 2 }]]);
 * lacking(mine, (author) => (author === "a1" ? 3 : 2)); // [{ author: "a1", after: 3, upTo: 5 }]
 * cutBatches([400, 400, 400], { budgetBytes: 1000, maxEntries: 1000, final: true }); // [2, 1]
 * ```
 */

/** The entries of one author the peer lacks: seqs after `after`, up to `upTo`. */
export interface Lack {
  /** The author's key, hex (as heads are keyed). */
  readonly author: string;
  readonly after: number;
  readonly upTo: number;
}

/**
 * The authors whose chains we hold further than the peer, in the order of
 * `mine`, with the seqs it lacks. `held(author)` is the last seq it holds (0
 * for none).
 */
export function lacking(
  mine: ReadonlyMap<string, { readonly seq: number }>,
  held: (author: string) => number,
): Lack[] {
  const out: Lack[] = [];
  for (const [author, head] of mine) {
    const after = held(author);
    if (after < head.seq) out.push({ author, after, upTo: head.seq });
  }
  return out;
}

/** How many entries the ranges hold in all. */
export function lackCount(lacks: readonly Lack[]): number {
  return lacks.reduce((n, l) => n + l.upTo - l.after, 0);
}

/** Options for {@linkcode cutBatches}. */
export interface BatchOptions {
  /** A push's entries stay under this many bytes (an entry bigger than that goes alone). */
  readonly budgetBytes: number;
  /** Entries in one push at most (and in one load). */
  readonly maxEntries: number;
  /**
   * Whether the entries given end what is to be pushed now (the chain's end,
   * or a stop such as a member's removal). When not, a last push that did not
   * fill up is left out: the next load, from where the others ended, may fill
   * it further, as a push cut from that load would be.
   */
  readonly final: boolean;
}

/**
 * Cuts an author's next entries, given as their byte sizes in seq order, into
 * pushes; returns how many entries go in each, in order. Every push but the
 * last (or every one, when `final`) is as long as the byte budget and
 * `maxEntries` allow.
 */
export function cutBatches(sizes: readonly number[], options: BatchOptions): number[] {
  const { budgetBytes, maxEntries, final } = options;
  const out: number[] = [];
  let start = 0;
  while (start < sizes.length) {
    let n = 0;
    let bytes = 0;
    while (
      start + n < sizes.length && n < maxEntries &&
      (n === 0 || bytes + sizes[start + n]! < budgetBytes)
    ) {
      bytes += sizes[start + n]!;
      n++;
    }
    const full = n === maxEntries || start + n < sizes.length;
    // A push that ran out of entries may grow with the next load, unless it is already the longest allowed.
    if (!final && !full && start > 0) break;
    out.push(n);
    start += n;
  }
  return out;
}
