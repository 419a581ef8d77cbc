import assert from "node:assert/strict";
import { afterPunch, planRound, resolveSchedule, type RetryEntry } from "./punch_schedule.ts";
import { type PunchResult, SYMMETRIC_TARGET } from "./punch_host.ts";

const failed = (reason: string, attempts: PunchAttempts): PunchResult => ({
  ok: false,
  code: "coordinators-failed",
  reason,
  attempts,
});
type PunchAttempts = Extract<PunchResult, { ok: false }>["attempts"];

const o = resolveSchedule({ intervalMs: 2000, graceMs: 3000, retryMs: 5000, maxRetryMs: 120_000 });

Deno.test("punch schedule: a grace period first; the larger key waits two rounds more; running ones are skipped", () => {
  const first = planRound(new Map(), ["bb", "cc"], "bc", 1000, new Set(), o);
  // "bb" < "bc" < "cc": we go first towards cc, and let bb go first towards us.
  assert.deepEqual(first.retries.get("cc"), { at: 4000, failures: 0 });
  assert.deepEqual(first.retries.get("bb"), { at: 8000, failures: 0 });
  assert.deepEqual(first.due, []);
  assert.deepEqual(planRound(first.retries, ["bb", "cc"], "bc", 4000, new Set(), o).due, ["cc"]);
  assert.deepEqual(planRound(first.retries, ["bb", "cc"], "bc", 8000, new Set(["cc"]), o).due, [
    "bb",
  ]);
  // A contact reached since is forgotten; coming back, it gets a new grace period.
  const gone = planRound(first.retries, ["cc", "cc"], "bc", 9000, new Set(), o);
  assert.deepEqual([...gone.retries.keys()], ["cc"]);
  assert.deepEqual(gone.due, ["cc"], "once, even when listed twice");
});

Deno.test("punch schedule: failures back off, doubling with jitter up to the cap; a symmetric target waits the most", () => {
  let r: RetryEntry = { at: 0, failures: 0 };
  const waits: number[] = [];
  for (let i = 0; i < 7; i++) {
    r = afterPunch(r, failed("timed out", []), 1000, o, () => 0.5)!;
    waits.push(r.at - 1000);
  }
  assert.deepEqual(waits, [5000, 10_000, 20_000, 40_000, 80_000, 120_000, 120_000]);
  assert.equal(r.failures, 7);
  assert.equal(r.reason, "timed out");
  const jittered = afterPunch({ at: 0, failures: 0 }, failed("x", []), 0, o, () => 0);
  assert.equal(jittered!.at, 3750, "three quarters of the base at the low end");
  const symmetric = afterPunch(
    { at: 0, failures: 0 },
    failed(`via hive: ${SYMMETRIC_TARGET}`, [{ via: "hive", code: "target-symmetric-nat" }]),
    0,
    o,
    () => 0.5,
  );
  assert.equal(symmetric!.at, 120_000);
  assert.equal(
    afterPunch(r, { ok: true, via: "hive", endpoint: "1.2.3.4:5" }, 0, o, () => 0.5),
    undefined,
  );
});
