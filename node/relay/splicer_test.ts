import assert from "node:assert/strict";
import { Duplex } from "node:stream";
import { FakeClock, settle } from "../clock/mod.ts";
import { encodeB64, type RpcSession } from "../protocol/mod.ts";
import type { InboundPeer } from "../transport/mod.ts";
import type { RelayHost, RelayNote } from "./relay_host.ts";
import { resolveRelayLimits } from "./relay_policy.ts";
import { Splicer } from "./splicer.ts";

const ALICE = new Uint8Array(32).fill(1);
const BOB = new Uint8Array(32).fill(2);

/** A relay whose contacts Alice and Bob are both connected, Bob taking every offer. */
function relay(clock: FakeClock, bytesPerSecondPerMember: number) {
  const offers: string[] = [];
  const rpc = {
    closed: false,
    request: (_m: string, p: { token: string }) => (offers.push(p.token), Promise.resolve({})),
  } as unknown as RpcSession;
  const host = {
    accepts: () => true,
    session: () => ({ peer: BOB, rpc, direction: "in", anchor: false, remote: "x:1" }),
    nameOf: (k: Uint8Array) => (k[0] === 1 ? "alice" : "bob"),
    log: () => {},
  } as unknown as RelayHost;
  const notes: RelayNote[] = [];
  const splicer = new Splicer({ host, clock, now: () => clock.now(), note: (n) => notes.push(n) });
  splicer.limits = resolveRelayLimits({ bytesPerSecondPerMember });
  return { splicer, offers, notes };
}

/** One side's channel to the relay: what we push is what the member sends. */
function channel() {
  const received: Uint8Array[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk, _enc, done) {
      received.push(chunk);
      done();
    },
  });
  return { stream, received };
}

/**
 * Lets node streams move what they hold. A real timer is the point here:
 * Deno 2.9.6 runs process.nextTick callbacks (which node streams wait on)
 * after timers, not after the MessageChannel turns FakeClock's settle takes.
 */
async function flushStreams(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
  await settle();
}

const peer = (publicKey: Uint8Array) => ({ publicKey }) as InboundPeer;

Deno.test("splicer: a refusal is told with its code", async () => {
  const clock = new FakeClock({ start: 0 });
  const { splicer, notes } = relay(clock, 1000);
  await assert.rejects(splicer.open(ALICE, { to: encodeB64(ALICE) }), /cannot relay to yourself/);
  assert.deepEqual(notes, [
    { type: "splice", state: "refused", from: ALICE, to: ALICE, code: "bad_input" },
  ]);
});

Deno.test("splicer: a side that never opens its channel is dropped after 15 s", async () => {
  const clock = new FakeClock({ start: 0 });
  const { splicer, offers } = relay(clock, 1000);
  const { token } = await splicer.open(ALICE, { to: encodeB64(BOB) });
  assert.deepEqual(offers, [token]);
  assert.equal(splicer.active, 1);
  assert.ok(splicer.onChannel(peer(ALICE), `roj-relay-${token}`, () => channel().stream));
  assert.ok(!splicer.onChannel(peer(ALICE), `roj-relay-${token}`, () => channel().stream));
  await clock.advance(14_999);
  assert.equal(splicer.active, 1);
  await clock.advance(1);
  assert.equal(splicer.active, 0);
  assert.ok(!splicer.onChannel(peer(BOB), `roj-relay-${token}`, () => channel().stream));
});

Deno.test("splicer: a member's bytes are paced to its share, on the relay's clock", async () => {
  const clock = new FakeClock({ start: 0 });
  const { splicer, notes } = relay(clock, 1000);
  const tapped: number[] = [];
  splicer.tap((_from, chunk) => tapped.push(chunk.length));
  const { token } = await splicer.open(ALICE, { to: encodeB64(BOB) });
  const a = channel(), b = channel();
  splicer.onChannel(peer(ALICE), `roj-relay-${token}`, () => a.stream);
  splicer.onChannel(peer(BOB), `roj-relay-${token}`, () => b.stream);
  assert.equal(splicer.splices, 1);
  assert.deepEqual(notes, [{ type: "splice", state: "up", from: ALICE, to: BOB }]);
  for (let i = 0; i < 3; i++) a.stream.push(new Uint8Array(1000).fill(i));
  await flushStreams();
  // A full bucket lets the first second's worth through at once; the rest waits its turn.
  assert.deepEqual(b.received.map((c) => c[0]), [0]);
  await clock.advance(999);
  await flushStreams();
  assert.deepEqual(b.received.map((c) => c[0]), [0]);
  await clock.advance(1);
  await flushStreams();
  assert.deepEqual(b.received.map((c) => c[0]), [0, 1]);
  await clock.advance(1000);
  await flushStreams();
  assert.deepEqual(b.received.map((c) => c[0]), [0, 1, 2]);
  assert.equal(splicer.bytesRelayed, 3000);
  assert.deepEqual(tapped, [1000, 1000, 1000]);
  splicer.close();
  assert.equal(splicer.active, 0);
  assert.equal(clock.pending, 0);
  assert.deepEqual(notes.at(-1), {
    type: "splice",
    state: "ended",
    from: ALICE,
    to: BOB,
    bytes: 3000,
  });
});
