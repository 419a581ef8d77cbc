import assert from "node:assert/strict";
import { MAX_COMMIT_BYTES, MAX_COMMIT_KEY_BYTES, MAX_MUTATIONS } from "../store/mod.ts";
import { planCommits } from "./commit_plan.ts";
import type { Entry } from "./entry.ts";

/** Just what the plan reads of an entry: its author and sizes. */
function entry(author: number, seq: number, bytes = 100): Entry {
  return {
    author: new Uint8Array(32).fill(author),
    seq,
    signed: new Uint8Array(bytes),
    sig: new Uint8Array(0),
  } as unknown as Entry;
}
const keyOf = (a: Uint8Array) => String(a[0]);

Deno.test("commit plan: one batch while it fits, each author's last entry is the head it moves", () => {
  const entries = [entry(1, 1), entry(1, 2), entry(2, 1)];
  const [only, ...rest] = planCommits("c", entries, keyOf);
  assert.equal(rest.length, 0);
  assert.deepEqual(only!.entries, entries);
  assert.deepEqual([...only!.moved].map(([k, e]) => [k, e.seq]), [["1", 2], ["2", 1]]);
  assert.deepEqual(planCommits("c", [], keyOf), []);
});

Deno.test("commit plan: cuts at the KV limits of mutations, bytes and moved heads, never empty", () => {
  // One author: each entry is one set (one key), plus its head's check and set, and the clock.
  const many = Array.from({ length: 2 * MAX_MUTATIONS }, (_, i) => entry(1, i + 1, 10));
  const byCount = planCommits("c", many, keyOf);
  const keySize = "c".length + 32 + 48;
  const fit = Math.min(MAX_MUTATIONS - 2, Math.floor(MAX_COMMIT_KEY_BYTES / keySize) - 1);
  assert.equal(byCount[0]!.entries.length, fit);
  assert.equal(byCount.flatMap((b) => b.entries).length, many.length);
  // Large entries: as many as fit under the byte limit, and a lone oversize one still goes.
  const big = Array.from({ length: 5 }, (_, i) => entry(1, i + 1, MAX_COMMIT_BYTES / 2));
  assert.deepEqual(planCommits("c", big, keyOf).map((b) => b.entries.length), [1, 1, 1, 1, 1]);
  // At most 90 authors' heads per commit.
  const authors = Array.from({ length: 200 }, (_, i) => entry(i, 1, 10));
  assert.deepEqual(planCommits("c", authors, keyOf).map((b) => b.moved.size), [90, 90, 20]);
});
