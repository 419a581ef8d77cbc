import assert from "node:assert/strict";
import { dialHappyEyeballs, type DialRace } from "./happy_eyeballs.ts";

const isIPv6 = (a: string) => a.startsWith("[");
const V6 = "[2001:db8::1]:7022";
const V4 = "192.0.2.1:7022";

/** A dial that answers after `ms` (true: a session), or hangs until the race is aborted. */
function dialer(plan: Record<string, { ms: number; ok: boolean } | "hang">) {
  const started: Array<{ address: string; at: number }> = [];
  const aborted: string[] = [];
  const claimed: Array<{ address: string; won: boolean }> = [];
  const t0 = performance.now();
  const dial = (address: string, race: DialRace) => {
    started.push({ address, at: performance.now() - t0 });
    const p = plan[address]!;
    return new Promise<boolean>((resolve) => {
      const onAbort = () => {
        aborted.push(address);
        clearTimeout(timer);
        resolve(false);
      };
      race.signal.addEventListener("abort", onAbort, { once: true });
      const timer = p === "hang" ? undefined : setTimeout(() => {
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
  const d = dialer({ [V6]: { ms: 20, ok: true }, [V4]: { ms: 0, ok: true } });
  assert.equal(await dialHappyEyeballs([V4, V6], d.dial, { isIPv6, headStartMs: 300 }), true);
  assert.deepEqual(d.started.map((s) => s.address), [V6]);
  await new Promise((r) => setTimeout(r, 350));
  assert.deepEqual(d.started.map((s) => s.address), [V6], "IPv4 never dialled");
});

Deno.test("happy eyeballs: a silent IPv6 address holds IPv4 back only for the head start; the first session aborts the other dial", async () => {
  const d = dialer({ [V6]: "hang", [V4]: { ms: 10, ok: true } });
  assert.equal(await dialHappyEyeballs([V4, V6], d.dial, { isIPv6, headStartMs: 100 }), true);
  const v4 = d.started.find((s) => s.address === V4)!;
  assert.ok(v4.at >= 90 && v4.at < 1000, `IPv4 dialled at ${v4.at} ms`);
  assert.deepEqual(d.claimed, [{ address: V4, won: true }]);
  assert.deepEqual(d.aborted, [V6]);
});

Deno.test("happy eyeballs: when every IPv6 dial fails at once, IPv4 does not wait for the head start", async () => {
  const d = dialer({ [V6]: { ms: 0, ok: false }, [V4]: { ms: 0, ok: true } });
  const t0 = performance.now();
  assert.equal(await dialHappyEyeballs([V6, V4], d.dial, { isIPv6, headStartMs: 10_000 }), true);
  assert.ok(performance.now() - t0 < 1000);
});

Deno.test("happy eyeballs: of two sessions that come up, only the first is kept", async () => {
  const a = "[2001:db8::2]:7022";
  const claims: boolean[] = [];
  // Dials that do not stop when aborted (a handshake already under way) and finish together.
  const dial = async (_address: string, race: DialRace) => {
    await new Promise((r) => setTimeout(r, 30));
    const won = race.claim();
    claims.push(won);
    return won;
  };
  assert.equal(await dialHappyEyeballs([V6, a, V4], dial, { isIPv6, headStartMs: 1000 }), true);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(
    claims,
    [true, false],
    "IPv4 never dialled; the second IPv6 session is not kept",
  );
});

Deno.test("happy eyeballs: one family is dialled all at once; nothing answering is false", async () => {
  const d = dialer({ [V4]: { ms: 5, ok: false }, "198.51.100.1:7022": { ms: 5, ok: false } });
  assert.equal(
    await dialHappyEyeballs([V4, "198.51.100.1:7022"], d.dial, { isIPv6, headStartMs: 5000 }),
    false,
  );
  assert.equal(d.started.length, 2);
  assert.ok(d.started.every((s) => s.at < 100));
  assert.equal(await dialHappyEyeballs([], d.dial, { isIPv6 }), false);
  // A dial that throws counts as a failure.
  assert.equal(
    await dialHappyEyeballs([V6, V4], () => Promise.reject(new Error("x")), { isIPv6 }),
    false,
  );
});
