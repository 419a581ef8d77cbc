/**
 * The chain rules of a merge: an author's entry is stored only when it
 * extends the author's chain by exactly one (seq, prev hash, a clock that
 * advances) and does not move the chat's clock too far (clock_bound.ts). An
 * entry at a taken place is a duplicate when it is the same entry, else an
 * equivocation: the first stays, the second is evidence.
 */
import { bytesEqual } from "../wire/mod.ts";
import { clockJumpRefusal } from "./clock_bound.ts";
import type { Entry } from "./entry.ts";
import type { Head } from "./head_cache.ts";
import type { Rejection } from "./merge_result.ts";

/** What the chain rules made of a run of verified entries. */
export interface ChainVerdict {
  /** Entries that extend their chains, in the order given. */
  readonly accepted: Entry[];
  /** Second entries for a taken author+seq (kept aside as evidence). */
  readonly conflicts: Entry[];
  readonly duplicates: number;
  readonly rejected: Rejection[];
}

/**
 * Applies the chain rules to `candidates` (sorted by author, then seq) on top
 * of each author's head in `tips` (by author hex; moved as entries are
 * accepted) and of the chat's clock `clock`. `storedAt` finds the entry
 * already at a taken place.
 *
 * The entries are judged in clock order (ties in the order given), so an
 * entry is measured against the clock as the entries it follows left it,
 * whichever authors they are by. An author's own chain keeps its order:
 * its clocks advance with its seqs (an entry whose clock does not is refused
 * either way). `accepted` comes out in the order given.
 */
export async function checkChains(
  candidates: readonly Entry[],
  tips: Map<string, Head | null>,
  keyOf: (author: Uint8Array) => string,
  storedAt: (author: Uint8Array, seq: number) => Promise<Entry | null>,
  clock = 0,
): Promise<ChainVerdict> {
  const order = candidates.map((_, i) => i);
  order.sort((i, j) => candidates[i]!.lamport - candidates[j]!.lamport || i - j);
  const taken = new Uint8Array(candidates.length);
  const acceptedAt = new Map<string, Entry>();
  const conflicts: Entry[] = [];
  const rejected: Rejection[] = [];
  let duplicates = 0;
  for (const i of order) {
    const e = candidates[i]!;
    const k = keyOf(e.author);
    const head = tips.get(k) ?? null;
    const where = { author: e.author, seq: e.seq };
    if (head && e.seq <= head.seq) {
      const mine = acceptedAt.get(`${k}/${e.seq}`) ?? await storedAt(e.author, e.seq);
      if (mine && bytesEqual(mine.hash, e.hash)) duplicates++;
      else {
        conflicts.push(e);
        rejected.push({
          code: "equivocation",
          reason: `author already has a different entry ${e.seq}; the first is kept`,
          ...where,
        });
      }
      continue;
    }
    const expected = (head?.seq ?? 0) + 1;
    if (e.seq !== expected) {
      rejected.push({
        code: "seq_gap",
        reason: `entry ${e.seq} arrived but the author's next is ${expected}`,
        ...where,
      });
      continue;
    }
    if (head && !bytesEqual(e.prev!, head.hash)) {
      rejected.push({
        code: "prev_mismatch",
        reason: `entry ${e.seq} does not follow the author's entry ${head.seq}`,
        ...where,
      });
      continue;
    }
    if (head && e.lamport <= head.lamport) {
      rejected.push({
        code: "prev_mismatch",
        reason: `entry ${e.seq} has a clock that does not advance`,
        ...where,
      });
      continue;
    }
    const jump = clockJumpRefusal(e.seq, e.lamport, clock);
    if (jump) {
      rejected.push({ code: "refused", reason: jump.message, ...where });
      continue;
    }
    taken[i] = 1;
    acceptedAt.set(`${k}/${e.seq}`, e);
    tips.set(k, e);
    clock = Math.max(clock, e.lamport);
  }
  const accepted = candidates.filter((_, i) => taken[i] === 1);
  return { accepted, conflicts, duplicates, rejected };
}
