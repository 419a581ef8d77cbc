import assert from "node:assert/strict";
import { FakeClock } from "./fake_clock.ts";
import { delay, withTimeout } from "./clock.ts";

Deno.test("FakeClock runs timers in due order, ties in the order set, each at its time", async () => {
  const clock = new FakeClock({ start: 0 });
  const seen: string[] = [];
  clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
  clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
  clock.setTimeout(() => seen.push(`c@${clock.now()}`), 20);
  await clock.advance(15);
  assert.deepEqual(seen, ["a@10"]);
  assert.equal(clock.now(), 15);
  await clock.advance(5);
  assert.deepEqual(seen, ["a@10", "b@20", "c@20"]);
});

Deno.test("FakeClock settles promise chains between timers", async () => {
  const clock = new FakeClock({ start: 0 });
  const seen: number[] = [];
  (async () => {
    await delay(clock, 100);
    seen.push(clock.now());
    await Promise.resolve();
    await delay(clock, 50); // set only after the first timer's continuation ran
    seen.push(clock.now());
  })();
  const idle = await clock.runUntilIdle();
  assert.deepEqual(seen, [100, 150]);
  assert.equal(idle, 150);
  assert.equal(clock.pending, 0);
});

Deno.test("FakeClock: intervals repeat, cleared timers never run, runUntilIdle bounds a busy loop", async () => {
  const clock = new FakeClock({ start: 0 });
  let ticks = 0;
  const id = clock.setInterval(() => ticks++, 10);
  const never = clock.setTimeout(() => assert.fail("cleared"), 5);
  clock.clearTimeout(never);
  await clock.advance(35);
  assert.equal(ticks, 3);
  await assert.rejects(clock.runUntilIdle({ maxTimers: 10 }), /still busy/);
  clock.clearInterval(id);
  assert.equal(await clock.runUntilIdle(), 0);
});

Deno.test("FakeClock.random is replayable from its seed", () => {
  const a = new FakeClock({ seed: 7 }), b = new FakeClock({ seed: 7 });
  const xs = [a.random(), a.random(), a.random()];
  assert.deepEqual(xs, [b.random(), b.random(), b.random()]);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

Deno.test("delay rejects on abort and clears its timer; withTimeout picks the first", async () => {
  const clock = new FakeClock({ start: 0 });
  const ac = new AbortController();
  const p = delay(clock, 1000, ac.signal);
  ac.abort(new Error("stop"));
  await assert.rejects(p, /stop/);
  assert.equal(clock.pending, 0);
  const slow = withTimeout(clock, delay(clock, 500).then(() => "done"), 100, () => "late");
  await clock.advance(100);
  assert.equal(await slow, "late");
  await clock.runUntilIdle();
});
