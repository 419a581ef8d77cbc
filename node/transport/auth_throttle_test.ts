import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { AuthThrottle } from "./auth_throttle.ts";

Deno.test("AuthThrottle: a burst, then the refill rate; a refusal counted, the first one told", async () => {
  const clock = new FakeClock({ start: 0 });
  const t = new AuthThrottle(clock, { burst: 3, perSecond: 2 });
  assert.deepEqual([1, 2, 3].map(() => t.take("a").ok), [true, true, true]);
  assert.deepEqual(t.take("a"), { ok: false, firstRefusal: true });
  assert.deepEqual(t.take("a"), { ok: false, firstRefusal: false });
  assert.equal(t.take("b").ok, true); // another source has its own bucket
  await clock.advance(500);
  assert.equal(t.take("a").ok, true);
  assert.equal(t.take("a").ok, false);
  assert.deepEqual(t.drain(), [{ source: "a", refused: 3 }]);
  assert.deepEqual(t.take("a"), { ok: false, firstRefusal: true });
  await clock.advance(60_000);
  assert.deepEqual([1, 2, 3, 4].map(() => t.take("a").ok), [true, true, true, false]);
});

Deno.test("AuthThrottle: a login gives its attempts back; sources are bounded", () => {
  const t = new AuthThrottle(new FakeClock({ start: 0 }), {
    burst: 4,
    perSecond: 0,
    maxSources: 2,
  });
  for (let i = 0; i < 10; i++) {
    assert.ok(t.take("household").ok && t.take("household").ok, `login ${i}`);
    t.refund("household", 2);
  }
  for (let i = 0; i < 4; i++) t.take("x");
  assert.equal(t.take("x").ok, false);
  t.take("y");
  t.take("z"); // forgets the least recently seen source, "household"
  for (let i = 0; i < 4; i++) assert.ok(t.take("household").ok);
});
