import assert from "node:assert/strict";
import { decideOpen, type OpenRequest, resolveRelayLimits, takeTokens } from "./relay_policy.ts";

const ok: OpenRequest = {
  self: false,
  targetKnown: true,
  targetConnected: true,
  targetRelayed: false,
  askerSessions: 0,
  targetSessions: 0,
};

Deno.test("relay policy: every refusal has a code and a reason", () => {
  const limits = resolveRelayLimits({ maxSessionsPerMember: 2 });
  assert.deepEqual(decideOpen(limits, ok), { ok: true });
  const cases: Array<[Partial<OpenRequest>, string, RegExp]> = [
    [{ self: true }, "bad_input", /yourself/],
    [{ targetKnown: false }, "not_found", /not connected/],
    [{ targetConnected: false }, "not_found", /not connected/],
    [{ targetRelayed: true }, "not_found", /another relay/],
    [{ askerSessions: 2 }, "busy", /you already have 2 .* limit is 2/],
    [{ targetSessions: 2 }, "busy", /target already has 2/],
  ];
  for (const [change, code, reason] of cases) {
    const d = decideOpen(limits, { ...ok, ...change });
    assert.equal(d.ok, false, JSON.stringify(change));
    if (!d.ok) {
      assert.equal(d.code, code);
      assert.match(d.reason, reason);
    }
  }
  const off = decideOpen(resolveRelayLimits({ enabled: false }), ok);
  assert.ok(!off.ok && /--no-relay/.test(off.reason));
  assert.throws(() => resolveRelayLimits({ bytesPerSecondPerMember: 0 }), RangeError);
});

Deno.test("relay policy: the token bucket holds the rate over time, with a burst up front", () => {
  const rate = 1000; // bytes per second
  let b = { tokens: rate, at: 0 };
  let now = 0;
  let waited = 0;
  // 10 kB in 100-byte chunks, each sent when its wait is over: takes ~9 s after the 1 s burst.
  for (let i = 0; i < 100; i++) {
    const r = takeTokens(b, 100, now, rate);
    b = r.bucket;
    now += r.waitMs;
    waited += r.waitMs;
  }
  assert.ok(waited >= 8900 && waited <= 9100, `waited ${waited} ms`);
  // Idle time refills only up to the burst.
  const later = takeTokens(b, 1000, now + 60_000, rate);
  assert.equal(later.waitMs, 0);
  assert.equal(takeTokens(later.bucket, 1, now + 60_000, rate).waitMs, 1);
});
