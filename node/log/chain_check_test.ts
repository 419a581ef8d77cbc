import assert from "node:assert/strict";
import { checkChains } from "./chain_check.ts";
import type { Entry } from "./entry.ts";
import type { Head } from "./head_cache.ts";

/** An entry as the chain rules see it: author, seq, lamport, hash, prev. */
function entry(seq: number, lamport: number, hash: number, prev: number | null): Entry {
  return {
    author: new Uint8Array(32).fill(1),
    seq,
    lamport,
    hash: new Uint8Array(32).fill(hash),
    prev: prev === null ? null : new Uint8Array(32).fill(prev),
  } as unknown as Entry;
}
const keyOf = () => "a";

Deno.test("chain rules: extend by one, with the right prev and a clock that advances", async () => {
  const stored = entry(1, 1, 11, null);
  const tips = new Map<string, Head | null>([["a", stored]]);
  const v = await checkChains(
    [
      entry(1, 1, 11, null), // the stored entry again: a duplicate
      entry(1, 1, 99, null), // another entry 1: equivocation
      entry(2, 2, 12, 11),
      entry(2, 2, 12, 11), // accepted in this run already: a duplicate
      entry(4, 4, 14, 13), // 3 is missing
    ],
    tips,
    keyOf,
    (_, seq) => Promise.resolve(seq === 1 ? stored : null),
  );
  assert.deepEqual(v.accepted.map((e) => e.seq), [2]);
  assert.equal(v.duplicates, 2);
  assert.deepEqual(v.conflicts.map((e) => e.hash[0]), [99]);
  assert.deepEqual(v.rejected.map((r) => [r.code, r.seq]), [["equivocation", 1], ["seq_gap", 4]]);
  assert.equal(tips.get("a")!.seq, 2, "the tip moved with the accepted entry");

  const bad = await checkChains(
    [entry(3, 5, 13, 77), entry(3, 2, 13, 12)],
    tips,
    keyOf,
    () => Promise.resolve(null),
  );
  assert.deepEqual(bad.rejected.map((r) => r.code), ["prev_mismatch", "prev_mismatch"]);
  assert.match(bad.rejected[1]!.reason, /clock that does not advance/);
});
