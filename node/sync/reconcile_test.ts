import assert from "node:assert/strict";
import { seededRandom, testSeed } from "../../testing/temp.ts";
import { cutBatches, lackCount, lacking } from "./reconcile.ts";

Deno.test("reconcile: the peer lacks what we hold further, per author, in our order", () => {
  const mine = new Map([["aa", { seq: 5 }], ["bb", { seq: 2 }], ["cc", { seq: 9 }]]);
  const held = new Map([["aa", 3], ["bb", 2], ["cc", 10]]);
  const cases: Array<[string, (a: string) => number, ReturnType<typeof lacking>]> = [
    ["a peer that holds nothing lacks everything", () => 0, [
      { author: "aa", after: 0, upTo: 5 },
      { author: "bb", after: 0, upTo: 2 },
      { author: "cc", after: 0, upTo: 9 },
    ]],
    ["behind on one, level on one, ahead on one", (a) => held.get(a) ?? 0, [
      { author: "aa", after: 3, upTo: 5 },
    ]],
    ["level everywhere", (a) => mine.get(a)!.seq, []],
  ];
  for (const [what, h, want] of cases) assert.deepEqual(lacking(mine, h), want, what);
  assert.equal(lackCount(lacking(mine, () => 0)), 16);
  assert.deepEqual(lacking(new Map(), () => 0), []);
});

Deno.test("reconcile: a run of entries is cut into pushes under the byte budget and the entry limit", () => {
  const o = { budgetBytes: 1000, maxEntries: 4 };
  const cases: Array<[string, number[], boolean, number[]]> = [
    ["nothing", [], true, []],
    ["fits in one", [100, 200, 300], true, [3]],
    ["the budget is a strict upper bound", [500, 499, 1], true, [2, 1]],
    ["one entry over the budget goes alone", [5000, 10, 10], true, [1, 2]],
    ["at most maxEntries per push", [1, 1, 1, 1, 1, 1], true, [4, 2]],
    ["not final: a short last push waits for the next load", [600, 600, 600], false, [1, 1]],
    ["not final, but the first push is never held back", [10, 10], false, [2]],
    ["not final: a full last push goes", [1, 1, 1, 1, 1, 1, 1, 1], false, [4, 4]],
  ];
  for (const [what, sizes, final, want] of cases) {
    assert.deepEqual(cutBatches(sizes, { ...o, final }), want, what);
  }
});

/** The pushes of a chain as ChatSync cut them before the plan: one load per push. */
function reloadingPushes(sizes: number[], budget: number, max: number): number[] {
  const out: number[] = [];
  let sent = 0;
  while (sent < sizes.length) {
    const loaded = sizes.slice(sent, sent + max);
    let bytes = 0;
    let n = 0;
    while (n < loaded.length && (n === 0 || bytes + loaded[n]! < budget)) bytes += loaded[n++]!;
    out.push(n);
    sent += n;
  }
  return out;
}

/** The same chain pushed from the plan: loads of `max`, each cut into pushes. */
function plannedPushes(sizes: number[], budget: number, max: number): number[] {
  const out: number[] = [];
  let sent = 0;
  while (sent < sizes.length) {
    const loaded = sizes.slice(sent, sent + max);
    const final = sent + max >= sizes.length;
    for (const n of cutBatches(loaded, { budgetBytes: budget, maxEntries: max, final })) {
      out.push(n);
      sent += n;
    }
  }
  return out;
}

Deno.test("reconcile: cutting each load into several pushes sends the very pushes one load per push did", () => {
  const seed = testSeed("reconcile");
  const rand = seededRandom(seed);
  for (let run = 0; run < 300; run++) {
    const max = 1 + Math.floor(rand() * 20);
    const budget = 50 + Math.floor(rand() * 2000);
    const sizes = Array.from(
      { length: Math.floor(rand() * 120) },
      () => 1 + Math.floor(rand() * (rand() < 0.1 ? 3000 : 300)),
    );
    assert.deepEqual(
      plannedPushes(sizes, budget, max),
      reloadingPushes(sizes, budget, max),
      `run ${run}: max ${max}, budget ${budget}, sizes ${sizes.join(",")}`,
    );
  }
});
