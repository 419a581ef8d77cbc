import assert from "node:assert/strict";
import { CatchUp, type CatchUpProgress } from "./catch_up.ts";

const heads = (o: Record<string, number>) =>
  new Map(Object.entries(o).map(([k, seq]) => [k, { seq }]));

Deno.test("catch-up: reports the start, throttled steps and the end", () => {
  let t = 0;
  const seen: CatchUpProgress[] = [];
  const c = new CatchUp((p) => seen.push(p), { now: () => t, everyMs: 100, minTotal: 10 });
  c.expect(heads({ a: 600, b: 400 }), heads({ a: 100 }));
  assert.deepEqual(seen, [{ done: 0, total: 900 }]);
  c.stored(100); // too soon after the start
  t = 150;
  c.stored(100);
  assert.deepEqual(seen.at(-1), { done: 200, total: 900 });
  assert.deepEqual(c.progress, { done: 200, total: 900 });
  c.expect(heads({ a: 5000 }), heads({})); // later heads answer our pushes: ignored
  c.stored(1000);
  assert.deepEqual(seen.at(-1), { done: 900, total: 900 });
  assert.equal(c.progress, null);
});

Deno.test("catch-up: small ones are not reported", () => {
  const seen: CatchUpProgress[] = [];
  const c = new CatchUp((p) => seen.push(p), { minTotal: 100 });
  c.expect(heads({ a: 50 }), heads({}));
  c.stored(50);
  assert.deepEqual(seen, []);
});

Deno.test("CatchUp.left counts from what is still missing, whatever batches were seen", () => {
  const seen: Array<[number, number]> = [];
  const c = new CatchUp((p) => seen.push([p.done, p.total]), {
    minTotal: 10,
    everyMs: 0,
    now: () => 0,
  });
  c.expect(new Map([["a", { seq: 500 }]]), new Map());
  c.left(400);
  c.left(450); // a late, stale count never moves progress back
  c.left(0);
  assert.deepEqual(seen, [[0, 500], [100, 500], [100, 500], [500, 500]]);
  assert.equal(c.progress, null);
});
