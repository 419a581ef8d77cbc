import assert from "node:assert/strict";
import { memoryPipePair } from "../transport/mod.ts";
import { RpcSession } from "../protocol/mod.ts";
import { type PeerSession, PeerSet } from "./peer_set.ts";

const key = (b: number) => new Uint8Array(32).fill(b);

function session(peer: Uint8Array, direction: "in" | "out"): PeerSession {
  const [p] = memoryPipePair();
  return {
    peer,
    direction,
    rpc: new RpcSession(p, { hello: { features: [], name: "x" }, helloTimeoutMs: 60_000 }),
    remote: "m",
    since: 0,
  };
}

Deno.test("simultaneous dials: both sides keep the session opened by the smaller key", () => {
  const small = key(1), big = key(2);
  // As seen by the small node: its own dial (out) and the big node's (in).
  const onSmall = new PeerSet(small);
  const out1 = session(big, "out"), in1 = session(big, "in");
  assert.equal(onSmall.add(out1), true);
  assert.equal(onSmall.add(in1), false);
  assert.equal(onSmall.get(big), out1);
  assert.ok(in1.rpc.closed);
  // As seen by the big node: the same two sessions, reversed.
  const onBig = new PeerSet(big);
  const out2 = session(small, "out"), in2 = session(small, "in");
  assert.equal(onBig.add(out2), true);
  assert.equal(onBig.add(in2), true, "the small node's dial wins");
  assert.equal(onBig.get(small), in2);
  assert.ok(out2.rpc.closed);
  for (const s of [out1, in2]) s.rpc.close();
});

Deno.test("a newer session from the same side replaces the old one, which is then no longer current", () => {
  const set = new PeerSet(key(1));
  const a = session(key(2), "out"), b = session(key(2), "out");
  set.add(a);
  set.add(b);
  assert.equal(set.get(key(2)), b);
  assert.equal(set.remove(a), false, "closing the old one does not drop the new");
  assert.equal(set.remove(b), true);
  b.rpc.close();
});

Deno.test("a direct session beats a relayed one whichever came first, on both sides", () => {
  const small = key(1), big = key(2);
  const relayed = (peer: Uint8Array, d: "in" | "out"): PeerSession => ({
    ...session(peer, d),
    via: "anchor",
  });
  // The small node reaches the big one through a relay, then the big node dials it directly.
  const onSmall = new PeerSet(small);
  const r1 = relayed(big, "out"), d1 = session(big, "in");
  assert.equal(onSmall.add(r1), true);
  assert.equal(
    onSmall.add(d1),
    true,
    "direct replaces relayed although the initiator rule says otherwise",
  );
  assert.ok(r1.rpc.closed);
  // The same two sessions on the big node: a relayed one arriving late loses.
  const onBig = new PeerSet(big);
  const d2 = session(small, "out"), r2 = relayed(small, "in");
  assert.equal(onBig.add(d2), true);
  assert.equal(onBig.add(r2), false);
  assert.equal(onBig.get(small), d2);
  for (const s of [d1, d2]) s.rpc.close();
});

Deno.test("one slot per device of a person: the first is the primary until it ends, then another takes over", () => {
  const set = new PeerSet(key(1));
  const person = key(2), phone = key(3);
  const laptop = session(person, "in");
  const fromPhone: PeerSession = { ...session(person, "in"), device: phone };
  assert.equal(set.add(laptop), true);
  assert.equal(set.add(fromPhone), true, "a device's session sits beside the person key's");
  assert.equal(set.get(person), laptop);
  assert.equal(set.at(person, phone), fromPhone);
  assert.deepEqual(set.of(person), [laptop, fromPhone]);
  assert.deepEqual(set.all(), [laptop], "one primary per person");
  assert.equal(set.every().length, 2);
  // A second session from the phone replaces the phone's, not the laptop's.
  const again: PeerSession = { ...session(person, "in"), device: phone };
  assert.equal(set.add(again), true);
  assert.ok(fromPhone.rpc.closed && !laptop.rpc.closed);
  assert.equal(set.remove(laptop), true);
  assert.equal(set.get(person), again, "the phone's session is the primary now");
  assert.equal(set.remove(again), true);
  assert.equal(set.get(person), undefined);
  for (const s of [laptop, again]) s.rpc.close();
});
