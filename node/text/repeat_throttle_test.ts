import assert from "node:assert/strict";
import { RepeatThrottle } from "./repeat_throttle.ts";

Deno.test("a repeated line is said once, then once per window with the count", () => {
  const t = new RepeatThrottle({ windowMs: 1000 });
  const said: string[] = [];
  for (let now = 0; now < 2500; now += 10) {
    const line = t.admit("peer refused entries of c: no", now);
    if (line) said.push(line);
  }
  assert.deepEqual(said, [
    "peer refused entries of c: no",
    "peer refused entries of c: no (100 times more in 1 min)",
    "peer refused entries of c: no (100 times more in 1 min)",
  ]);
  assert.equal(t.admit("another line", 2500), "another line", "lines are told apart by text");
});

Deno.test("lines that differ only in their figures are one line repeated", () => {
  const t = new RepeatThrottle({ windowMs: 1000 });
  assert.equal(t.admit("entry 4 does not follow 3", 0), "entry 4 does not follow 3");
  assert.equal(t.admit("entry 5 does not follow 4", 10), null);
  assert.equal(
    t.admit("entry 6 does not follow 5", 1000),
    "entry 6 does not follow 5 (2 times more in 1 min)",
  );
});

Deno.test("the lines remembered are capped; a forgotten line is said again", () => {
  const t = new RepeatThrottle({ windowMs: 1000, maxLines: 2 });
  assert.ok(t.admit("a", 0));
  assert.ok(t.admit("b", 0));
  assert.ok(t.admit("c", 0)); // forgets "a"
  assert.equal(t.admit("b", 1), null);
  assert.equal(t.admit("a", 1), "a");
});
