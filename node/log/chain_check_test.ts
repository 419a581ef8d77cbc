import assert from "node:assert/strict";
import { checkChains } from "./chain_check.ts";
import { MAX_LAMPORT_JUMP } from "./clock_bound.ts";
import type { Entry } from "./entry.ts";
import type { Head } from "./head_cache.ts";

/** An entry as the chain rules see it: author, seq, lamport, hash, prev. */
function entry(seq: number, lamport: number, hash: number, prev: number | null, by = 1): Entry {
  return {
    author: new Uint8Array(32).fill(by),
    seq,
    lamport,
    hash: new Uint8Array(32).fill(hash),
    prev: prev === null ? null : new Uint8Array(32).fill(prev),
  } as unknown as Entry;
}
const keyOf = (author: Uint8Array) => author[0] === 1 ? "a" : `x${author[0]}`;

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
  // Judged in clock order: the entry at clock 2 first.
  assert.match(bad.rejected[0]!.reason, /clock that does not advance/);
});

const J = MAX_LAMPORT_JUMP;

Deno.test("chain rules: the clock may jump by the bound, not one more", async () => {
  const run = (lamport: number, clock: number) =>
    checkChains(
      [entry(1, lamport, 11, null)],
      new Map(),
      keyOf,
      () => Promise.resolve(null),
      clock,
    );
  assert.equal((await run(1000 + J, 1000)).accepted.length, 1, "at the edge");
  const past = await run(1000 + J + 1, 1000);
  assert.equal(past.accepted.length, 0, "one past it");
  assert.deepEqual(past.rejected.map((r) => [r.code, r.seq]), [["refused", 1]]);
  assert.match(past.rejected[0]!.reason, /clock/);
  const huge = await run(Number.MAX_SAFE_INTEGER, 1000);
  assert.deepEqual(huge.rejected.map((r) => r.code), ["refused"]);
  // Far below the clock is no jump at all.
  assert.equal((await run(5, 1000)).accepted.length, 1);
});

Deno.test("chain rules: repeated steps at the bound each count from the clock they left", async () => {
  // One author stepping by J: each step is measured from the last one accepted.
  const steps = [entry(1, J, 11, null), entry(2, 2 * J, 12, 11), entry(3, 3 * J + 1, 13, 12)];
  const v = await checkChains(steps, new Map(), keyOf, () => Promise.resolve(null), 0);
  assert.deepEqual(v.accepted.map((e) => e.seq), [1, 2]);
  assert.deepEqual(v.rejected.map((r) => [r.code, r.seq]), [["refused", 3]]);
});

Deno.test("chain rules: an entry is judged after the entries it follows, whoever wrote them", async () => {
  // Author "a" sorts first, but its entry follows x2's two far entries.
  const tips = new Map<string, Head | null>();
  const v = await checkChains(
    [
      entry(1, 2 * J + 1, 11, null, 1),
      entry(1, J, 21, null, 2),
      entry(2, 2 * J, 22, 21, 2),
    ],
    tips,
    keyOf,
    () => Promise.resolve(null),
    0,
  );
  assert.equal(v.rejected.length, 0, JSON.stringify(v.rejected));
  // Out in the order given (author, then seq), as the commit plan expects.
  assert.deepEqual(v.accepted.map((e) => e.hash[0]), [11, 21, 22]);
  // A jump refused leaves the author's chain open: the next entry at that seq is taken.
  const refused = await checkChains(
    [entry(2, 10 * J, 12, 11, 1)],
    tips,
    keyOf,
    () => Promise.resolve(null),
    2 * J + 1,
  );
  assert.deepEqual(refused.rejected.map((r) => r.code), ["refused"]);
  const honest = await checkChains(
    [entry(2, 2 * J + 2, 13, 11, 1)],
    tips,
    keyOf,
    () => Promise.resolve(null),
    2 * J + 1,
  );
  assert.deepEqual(honest.accepted.map((e) => e.hash[0]), [13]);
});
