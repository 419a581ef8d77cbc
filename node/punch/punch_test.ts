/** The puncher's automatic punches as a state machine on a fake clock: no sockets, no sleeps. */
import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import { backoffDelay } from "../peers/mod.ts";
import type { RpcSession } from "../protocol/mod.ts";
import type { QuicService } from "../transport/mod.ts";
import { PUNCH_FEATURE, Puncher } from "./punch.ts";
import type { PunchHost, PunchNote } from "./punch_host.ts";

const key = (n: number) => new Uint8Array(32).fill(n);

/** A node with one coordinator whose every probe fails, and `target` unreached until told. */
function node(clock: FakeClock, me: Uint8Array, target: Uint8Array) {
  const probes: number[] = [];
  const coordinator = {
    peer: key(9),
    remote: "203.0.113.9:7022",
    rpc: {
      closed: false,
      peerHello: { features: [PUNCH_FEATURE] },
      request: (method: string) => {
        if (method === "punch.probe") probes.push(clock.now());
        return Promise.reject(new RojError("busy", "too many probes; try later"));
      },
    } as unknown as RpcSession,
  };
  const state = { reached: false };
  const notes: PunchNote[] = [];
  const host: PunchHost = {
    publicKey: me,
    signer: { publicKey: me, sign: () => Promise.resolve(new Uint8Array(64)) },
    clock,
    log: () => {},
    note: (n) => notes.push(n),
    quic: () => ({}) as QuicService,
    sessions: () => [coordinator],
    accepted: () => true,
    name: () => "bob",
    unreached: () => (state.reached ? [] : [target]),
    attach: () => Promise.resolve(false),
  };
  const options = { intervalMs: 2000, graceMs: 3000, retryMs: 5000, maxRetryMs: 60_000 };
  return { puncher: new Puncher(host, options), probes, state, options, notes };
}

Deno.test("puncher: the first punch after the grace period, then retries backing off with the clock's jitter", async () => {
  const seed = 5;
  const clock = new FakeClock({ start: 0, seed });
  const { puncher, probes, state, options, notes } = node(clock, key(1), key(2));
  puncher.start();
  await clock.advance(200_000);
  // Kicks run every 2 s; the first finds bob and waits out the 3 s grace; each failure
  // waits its back-off (drawn from the clock's random), until the next kick after it.
  const replay = new FakeClock({ seed });
  const expected = [6000];
  while (true) {
    const failures = expected.length;
    const wait = backoffDelay(failures - 1, {
      initialMs: options.retryMs,
      maxMs: options.maxRetryMs,
      random: () => replay.random(),
    });
    const next = Math.ceil((expected.at(-1)! + wait) / options.intervalMs) * options.intervalMs;
    if (next > 200_000) break;
    expected.push(next);
  }
  assert.deepEqual(probes, expected, `seed ${seed}`);
  assert.match(puncher.lastFailure(key(2))!, /via bob: too many probes/);
  // Each failure is told with its code and each coordinator's: this one was busy.
  assert.equal(notes.length, probes.length);
  assert.deepEqual(notes.at(-1), {
    type: "punch-failed",
    peer: key(2),
    code: "coordinators-failed",
    attempts: [{ via: key(9), code: "busy" }],
  });

  // Bob is reached another way: his retries are forgotten and no punch follows.
  state.reached = true;
  const before = probes.length;
  await clock.advance(120_000);
  assert.equal(probes.length, before);
  assert.equal(puncher.lastFailure(key(2)), undefined);
  puncher.close();
  assert.equal(clock.pending, 0, "close stops the kicks");
});

Deno.test("puncher: of two contacts the larger key waits two rounds more, so both do not punch at once", async () => {
  const clock = new FakeClock({ start: 0 });
  const { puncher, probes } = node(clock, key(3), key(2));
  puncher.start();
  await clock.advance(10_000);
  // Seen at 2 s, due at 2 + 3 + 2 × 2 = 9 s: the kick at 10 s punches.
  assert.deepEqual(probes, [10_000]);
  puncher.close();
});
