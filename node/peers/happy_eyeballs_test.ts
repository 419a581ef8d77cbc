import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { backoffDelay } from "./backoff.ts";
import { dialHappyEyeballs, type DialRace } from "./happy_eyeballs.ts";

const isIPv6 = (a: string) => a.startsWith("[");
const V6 = "[2001:db8::1]:7022";
const V4 = "192.0.2.1:7022";

/** A dial that answers after `ms` of fake time (true: a session), or hangs until the race is aborted. */
function dialer(clock: FakeClock, plan: Record<string, { ms: number; ok: boolean } | "hang">) {
  const started: Array<{ address: string; at: number }> = [];
  const aborted: string[] = [];
  const claimed: Array<{ address: string; won: boolean }> = [];
  const t0 = clock.now();
  const dial = (address: string, race: DialRace) => {
    started.push({ address, at: clock.now() - t0 });
    const p = plan[address]!;
    return new Promise<boolean>((resolve) => {
      const onAbort = () => {
        aborted.push(address);
        clock.clearTimeout(timer);
        resolve(false);
      };
      race.signal.addEventListener("abort", onAbort, { once: true });
      const timer = p === "hang" ? undefined : clock.setTimeout(() => {
        race.signal.removeEventListener("abort", onAbort);
        if (!p.ok) return resolve(false);
        const won = race.claim();
        claimed.push({ address, won });
        resolve(won);
      }, p.ms);
    });
  };
  return { dial, started, aborted, claimed };
}

Deno.test("happy eyeballs: an IPv6 address that answers within its head start is the only one dialled", async () => {
  const clock = new FakeClock({ start: 0 });
  const d = dialer(clock, { [V6]: { ms: 20, ok: true }, [V4]: { ms: 0, ok: true } });
  const result = dialHappyEyeballs([V4, V6], d.dial, { isIPv6, headStartMs: 300, clock });
  await clock.runUntilIdle();
  assert.equal(await result, true);
  assert.equal(clock.now(), 20, "the head start timer was cleared, not run");
  assert.deepEqual(d.started.map((s) => s.address), [V6], "IPv4 never dialled");
});

Deno.test("happy eyeballs: a silent IPv6 address holds IPv4 back only for the head start; the first session aborts the other dial", async () => {
  const clock = new FakeClock({ start: 0 });
  const d = dialer(clock, { [V6]: "hang", [V4]: { ms: 10, ok: true } });
  const result = dialHappyEyeballs([V4, V6], d.dial, { isIPv6, headStartMs: 100, clock });
  await clock.runUntilIdle();
  assert.equal(await result, true);
  assert.deepEqual(d.started, [{ address: V6, at: 0 }, { address: V4, at: 100 }]);
  assert.deepEqual(d.claimed, [{ address: V4, won: true }]);
  assert.deepEqual(d.aborted, [V6]);
});

Deno.test("happy eyeballs: when every IPv6 dial fails at once, IPv4 does not wait for the head start", async () => {
  const clock = new FakeClock({ start: 0 });
  const d = dialer(clock, { [V6]: { ms: 0, ok: false }, [V4]: { ms: 0, ok: true } });
  const result = dialHappyEyeballs([V6, V4], d.dial, { isIPv6, headStartMs: 10_000, clock });
  await clock.runUntilIdle();
  assert.equal(await result, true);
  assert.equal(clock.now(), 0);
});

Deno.test("happy eyeballs: of two sessions that come up, only the first is kept", async () => {
  const clock = new FakeClock({ start: 0 });
  const a = "[2001:db8::2]:7022";
  const claims: boolean[] = [];
  // Dials that do not stop when aborted (a handshake already under way) and finish together.
  const dial = async (_address: string, race: DialRace) => {
    await new Promise((r) => clock.setTimeout(() => r(undefined), 30));
    const won = race.claim();
    claims.push(won);
    return won;
  };
  const result = dialHappyEyeballs([V6, a, V4], dial, { isIPv6, headStartMs: 1000, clock });
  await clock.runUntilIdle();
  assert.equal(await result, true);
  assert.deepEqual(
    claims,
    [true, false],
    "IPv4 never dialled; the second IPv6 session is not kept",
  );
});

Deno.test("happy eyeballs: one family is dialled all at once; nothing answering is false", async () => {
  const clock = new FakeClock({ start: 0 });
  const d = dialer(clock, {
    [V4]: { ms: 5, ok: false },
    "198.51.100.1:7022": { ms: 5, ok: false },
  });
  const result = dialHappyEyeballs([V4, "198.51.100.1:7022"], d.dial, {
    isIPv6,
    headStartMs: 5000,
    clock,
  });
  await clock.runUntilIdle();
  assert.equal(await result, false);
  assert.deepEqual(d.started.map((s) => s.at), [0, 0]);
  assert.equal(await dialHappyEyeballs([], d.dial, { isIPv6, clock }), false);
  // A dial that throws counts as a failure.
  assert.equal(
    await dialHappyEyeballs([V6, V4], () => Promise.reject(new Error("x")), { isIPv6, clock }),
    false,
  );
  assert.equal(clock.pending, 0);
});

Deno.test("back-off: doubles from the first delay up to the cap, with ±25% jitter", () => {
  const at = (attempt: number, r: number) =>
    backoffDelay(attempt, { initialMs: 1000, maxMs: 60_000, random: () => r });
  assert.deepEqual([0, 1, 2, 6, 7, 20].map((a) => at(a, 0.5)), [
    1000,
    2000,
    4000,
    60_000,
    60_000,
    60_000,
  ]);
  assert.equal(at(0, 0), 750);
  assert.equal(at(3, 0.999999), 10_000);
});
