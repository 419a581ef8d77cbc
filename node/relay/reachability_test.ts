import assert from "node:assert/strict";
import { FakeClock, settle } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import type { RpcSession } from "../protocol/mod.ts";
import { Reachability } from "./reachability.ts";
import type { RelayHost, RelayNote, RelayPeerSession } from "./relay_host.ts";
import { BUSY_RETRY_MS, FIRST_CHECK_DELAY_MS } from "./reach_policy.ts";

/**
 * A node publishing 198.51.100.2:7022 with `sessions` up; its republish
 * reasons land in `published`, its notes in `notes`.
 */
function reachability(clock: FakeClock, sessions: () => RelayPeerSession[]) {
  const published: string[] = [];
  const notes: RelayNote[] = [];
  const host = {
    passive: false,
    log: () => {},
    nameOf: () => "peer",
    sessions,
    localNetworks: () => [],
    addresses: () => ["198.51.100.2:7022"],
    republish: (why: string) => published.push(why),
  } as unknown as RelayHost;
  const reach = new Reachability({
    host,
    clock,
    now: () => clock.now(),
    note: (n) => notes.push(n),
  });
  return { reach, published, notes };
}

Deno.test("reachability: first check a moment after the first session; busy checkers are asked again after a jittered wait", async () => {
  const seed = 42;
  const clock = new FakeClock({ start: 0, seed });
  const jitter = new FakeClock({ seed }).random(); // the first draw the check will make
  const asked: Array<{ at: number; address: string }> = [];
  const answers = [
    () => Promise.reject(new RojError("busy", "too many dial-backs at once")),
    () => Promise.resolve({ reached: true }),
  ];
  const rpc = {
    closed: false,
    peerHello: { features: ["relay"], sees: "198.51.100.2:40000" },
    request: (_method: string, params: { address: string }) => {
      asked.push({ at: clock.now(), address: params.address });
      return answers.shift()!();
    },
  } as unknown as RpcSession;
  const checker: RelayPeerSession = {
    peer: new Uint8Array(32).fill(3),
    rpc,
    direction: "out",
    anchor: true,
    remote: "203.0.113.7:7022",
  };
  const { reach, published, notes } = reachability(clock, () => [checker]);
  try {
    reach.onSession(checker);
    reach.onSession(checker); // a second session schedules no second check
    assert.equal(clock.pending, 1);
    assert.equal(clock.nextDue, FIRST_CHECK_DELAY_MS);
    await clock.advance(FIRST_CHECK_DELAY_MS);
    assert.deepEqual(asked, [{ at: FIRST_CHECK_DELAY_MS, address: "198.51.100.2:7022" }]);
    assert.equal(reach.reachable, undefined, "a busy checker says nothing");
    const retryAt = FIRST_CHECK_DELAY_MS + BUSY_RETRY_MS + jitter * BUSY_RETRY_MS;
    assert.equal(clock.nextDue, retryAt);
    await clock.runUntilIdle();
    assert.deepEqual(asked.map((a) => a.at), [FIRST_CHECK_DELAY_MS, retryAt]);
    assert.equal(reach.reachable, true);
    assert.deepEqual(published, ["reachable from outside"]);
    assert.deepEqual(notes, [{ type: "reachability", reachable: true, how: "dialled-back" }]);
  } finally {
    reach.close();
  }
});

Deno.test("reachability: a session a peer outside dialled to us settles it at once; the recheck comes on the tick", async () => {
  const clock = new FakeClock({ start: 10_000 });
  let asked = 0;
  const rpc = {
    closed: false,
    peerHello: { features: [], sees: "198.51.100.2:7022" },
    request: () => (asked++, Promise.resolve({ reached: false })),
  } as unknown as RpcSession;
  const inbound: RelayPeerSession = {
    peer: new Uint8Array(32).fill(4),
    rpc,
    direction: "in",
    anchor: false,
    remote: "203.0.113.8:51000",
  };
  const sessions = [inbound];
  const { reach, published, notes } = reachability(clock, () => sessions);
  reach.recheckMs = 300_000;
  reach.onSession(inbound);
  assert.equal(reach.reachable, true);
  assert.equal(clock.pending, 0, "no dial-back asked for");
  reach.tick(clock.now() + 299_999);
  // Now only an outbound session is left: the recheck asks it, and its answer stands.
  sessions[0] = { ...inbound, direction: "out" };
  reach.tick(clock.now() + 300_000);
  await settle();
  assert.equal(asked, 1, "the first tick was early, the second asked");
  assert.equal(reach.reachable, false);
  assert.deepEqual(published, ["reachable from outside", "not reachable from outside"]);
  assert.deepEqual(notes, [
    { type: "reachability", reachable: true, how: "inbound", peer: inbound.peer },
    { type: "reachability", reachable: false, how: "dial-back-failed" },
  ]);
  reach.close();
});
