/**
 * Read receipts in groups (issue 18, item 3; feature greceipts) between real
 * nodes: a member reading the group turns our messages "read"; receipts off
 * for that contact, or for everyone, stops them both ways (none sent, none
 * shown), and on again shows the newest kept. Checks that nothing came wait
 * for a later message on the same session (frames keep their order).
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode } from "../testing/nodes.ts";
import type { MessageView, NodeEvent } from "../node/api/mod.ts";

const G = "climbers";
const stateOf = async (n: TestNode, hash: string) =>
  (await n.node.call("read", { chat: G, markRead: false })).find((m: MessageView) =>
    m.hash === hash
  )?.state;

/** `from` has `text` from `to`: all `to` sent on the session before it came first. */
async function barrier(from: TestNode, to: TestNode, chat: string, text: string) {
  const at = from.events.length;
  await to.node.call("send", { chat, text });
  await from.waitFor((e) => e.type === "message" && e.message.body === text, 10_000, at);
}

const reads = (n: TestNode, from: number) =>
  n.events.slice(from).filter((e: NodeEvent) => e.type === "read" && e.chat === G);

async function sent(a: TestNode, b: TestNode, text: string): Promise<MessageView> {
  const m = await a.node.call("send", { chat: G, text });
  await b.waitFor((e) => e.type === "message" && e.message.body === text);
  return m;
}

Deno.test("group read receipts: shown as read; off for one contact or everyone stops them both ways", async () => {
  await using alice = await startTestNode("alice", { host: "127.0.0.2" });
  await using bob = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(alice, bob);
  await alice.node.call("group.create", { name: G });
  await alice.node.call("group.add", { group: G, members: ["bob"] });
  await bob.waitFor((e) => e.type === "group" && e.op === "joined");

  const m1 = await sent(alice, bob, "one");
  let from = alice.events.length;
  await bob.node.call("read", { chat: G });
  await alice.waitFor((e) => e.type === "read" && e.chat === G && e.seq >= m1.seq, 10_000, from);
  assert.equal(await stateOf(alice, m1.hash), "read");

  // Bob turns them off for alice: his reading sends her nothing.
  await bob.node.call("receipts", { on: false, contact: "alice" });
  const m2 = await sent(alice, bob, "two");
  from = alice.events.length;
  await bob.node.call("read", { chat: G });
  await barrier(alice, bob, "alice", "ping 1");
  assert.deepEqual(reads(alice, from), []);
  assert.notEqual(await stateOf(alice, m2.hash), "read");
  await bob.node.call("receipts", { on: true, contact: "alice" }); // sends the newest
  await alice.waitFor((e) => e.type === "read" && e.chat === G && e.seq >= m2.seq, 10_000, from);
  assert.equal(await stateOf(alice, m2.hash), "read");

  // Alice turns them off for everyone: bob's receipt is kept but not shown, hers are not sent.
  await alice.node.call("receipts", { on: false });
  const m3 = await sent(alice, bob, "three");
  from = alice.events.length;
  await bob.node.call("read", { chat: G });
  await barrier(alice, bob, "alice", "ping 2");
  assert.deepEqual(reads(alice, from), [], "not shown while off");
  assert.notEqual(await stateOf(alice, m3.hash), "read");
  const b1 = await sent(bob, alice, "from bob");
  const bobFrom = bob.events.length;
  await alice.node.call("read", { chat: G });
  await barrier(bob, alice, "bob", "ping 3");
  assert.deepEqual(reads(bob, bobFrom), [], "none sent while off");
  assert.notEqual(await stateOf(bob, b1.hash), "read");
  await alice.node.call("receipts", { on: true });
  assert.equal(await stateOf(alice, m3.hash), "read", "kept while off, shown once on");
  await bob.waitFor((e) => e.type === "read" && e.chat === G && e.seq >= b1.seq, 10_000, bobFrom);
  assert.equal(await stateOf(bob, b1.hash), "read");
});
