/**
 * Read receipts and typing notices (issue 18, item 3) between two real
 * nodes: a receipt turns own messages "read"; `roj receipts off` (for
 * everyone, or for one contact) stops them both ways — none sent, none
 * shown — and on again sends the newest; typing notices are session frames,
 * rate-limited by the sender and by the receiver.
 */
import assert from "node:assert/strict";
import { befriend, rawRojPipe, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { cliRun } from "../testing/cli_run.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import type { MessageView, NodeEvent } from "../node/api/mod.ts";
import { directChatId } from "../node/log/mod.ts";
import { TYPING_SEND_MS, TYPING_TAKE_MS } from "../node/chats/mod.ts";
import { RECEIPTS_FEATURE, RpcSession, TYPING_FEATURE } from "../node/protocol/mod.ts";

const stateOf = async (n: TestNode, chat: string, hash: string) =>
  (await n.node.call("read", { chat, markRead: false })).find((m: MessageView) => m.hash === hash)
    ?.state;

/** Waits until `from` has `text` from `to`: everything `to` sent on the session before it came first. */
async function barrier(from: TestNode, to: TestNode, chat: string, text: string) {
  const at = from.events.length;
  await to.node.call("send", { chat, text });
  await from.waitFor((e) => e.type === "message" && e.message.body === text, 10_000, at);
}

const readEvents = (n: TestNode, from: number) =>
  n.events.slice(from).filter((e: NodeEvent) => e.type === "read");

Deno.test("read receipts: shown as read; off for everyone or for one contact stops them both ways", async () => {
  await using alice = await startTestNode("alice", { host: "127.0.0.2" });
  await using bob = await startTestNode("bob", { host: "127.0.0.3" });
  const aliceCtl = await serveControl(controlSocketPath(alice.dir), alice.node);
  const bobCtl = await serveControl(controlSocketPath(bob.dir), bob.node);
  try {
    await befriend(alice, bob);
    const m1 = await alice.node.call("send", { chat: "bob", text: "one" });
    await bob.waitFor((e) => e.type === "message" && e.message.hash === m1.hash);
    let from = alice.events.length;
    await bob.node.call("read", { chat: "alice" });
    await alice.waitFor(
      (e) => e.type === "read" && e.chat === "bob" && e.seq >= m1.seq,
      10_000,
      from,
    );
    assert.equal(await stateOf(alice, "bob", m1.hash), "read");
    assert.match((await cliRun(["read", "bob", "--data", alice.dir])).stdout, /alice ✓✓ {2}one/);

    // Bob turns them off for everyone: his reading sends nothing.
    const off = await cliRun(["receipts", "off", "--data", bob.dir]);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.stdout, "read receipts are off for everyone\n");
    const m2 = await alice.node.call("send", { chat: "bob", text: "two" });
    await bob.waitFor((e) => e.type === "message" && e.message.hash === m2.hash);
    from = alice.events.length;
    await bob.node.call("read", { chat: "alice" });
    await barrier(alice, bob, "alice", "ping 1");
    assert.deepEqual(readEvents(alice, from), []);
    assert.equal(await stateOf(alice, "bob", m2.hash), "delivered");
    // ... and shows none of alice's: she reads his message with hers on, he sees no "read".
    await alice.node.call("read", { chat: "bob" });
    await barrier(bob, alice, "bob", "pong 1");
    const ping = (await bob.node.call("read", { chat: "alice", markRead: false }))
      .find((m: MessageView) => m.body === "ping 1")!;
    assert.equal(ping.state, "delivered");

    // On again: the newest receipt goes out at once.
    from = alice.events.length;
    assert.equal((await cliRun(["receipts", "on", "--data", bob.dir])).code, 0);
    await alice.waitFor((e) => e.type === "read" && e.seq >= m2.seq, 10_000, from);
    assert.equal(await stateOf(alice, "bob", m2.hash), "read");
    // Alice's receipt that came while his were off was kept, not shown: it shows now.
    assert.equal(await stateOf(bob, "alice", ping.hash), "read");

    // Alice turns them off for bob only: his receipts are not shown, hers are not sent.
    const json = await cliRun(["receipts", "off", "bob", "--json", "--data", alice.dir]);
    assert.deepEqual(JSON.parse(json.stdout), { on: true, offFor: ["bob"] });
    assert.equal(await stateOf(alice, "bob", m2.hash), "delivered", "none shown for bob");
    const m3 = await alice.node.call("send", { chat: "bob", text: "three" });
    await bob.waitFor((e) => e.type === "message" && e.message.hash === m3.hash);
    from = alice.events.length;
    await bob.node.call("read", { chat: "alice" }); // bob's are on: he sends one, alice drops it
    await barrier(alice, bob, "alice", "ping 2");
    assert.deepEqual(readEvents(alice, from), []);
    assert.equal(await stateOf(alice, "bob", m3.hash), "delivered");
    const bobFrom = bob.events.length;
    await alice.node.call("read", { chat: "bob" });
    await barrier(bob, alice, "bob", "pong 2");
    assert.deepEqual(readEvents(bob, bobFrom), []);
    const shown = await cliRun(["receipts", "--data", alice.dir]);
    assert.equal(shown.stdout, "read receipts are on; off for bob\n");
  } finally {
    await aliceCtl.close();
    await bobCtl.close();
  }
});

Deno.test("typing: an ephemeral session notice, rate-limited by the sender and by the receiver", async () => {
  // Alice's clock moves only when the test says: the rate limits are judged on it.
  let now = Date.now();
  await using alice = await startTestNode("alice", { host: "127.0.0.2", now: () => now });
  await using bob = await startTestNode("bob", { host: "127.0.0.3" });
  await using mallory = await startTestNode("mallory", { host: "127.0.0.4" });
  await befriend(alice, bob);
  await befriend(alice, mallory);
  const from = bob.events.length;
  const ctl = await serveControl(controlSocketPath(alice.dir), alice.node);
  const bobCtl = await serveControl(controlSocketPath(bob.dir), bob.node);
  try {
    // Bob follows the chat: `read --follow` says on stderr who is typing.
    let stop: (() => void) | null = null;
    let said = "";
    const follow = cliRun(["read", "alice", "--follow", "--data", bob.dir], {
      err: (t) => (said += t),
      onInterrupt: (s) => ((stop = s), () => {}),
    });
    await until(() => stop !== null, 5000, "bob's follow");
    const typed = await cliRun(["typing", "bob", "--data", alice.dir]);
    assert.deepEqual(typed, { code: 0, stdout: "sent\n", stderr: "" });
    await until(() => said.includes("alice is typing…"), 5000, "the typing line");
    stop!();
    assert.equal((await follow).code, 0);
  } finally {
    await ctl.close();
    await bobCtl.close();
  }
  const ev = await bob.waitFor((e) => e.type === "typing", 10_000, from);
  assert.deepEqual(ev, { type: "typing", chat: "alice", who: "alice" });
  // Again at once: the sender holds it back; TYPING_SEND_MS later it goes.
  assert.deepEqual(await alice.node.call("typing", { chat: "bob" }), { sent: false });
  now += TYPING_SEND_MS;
  assert.deepEqual(await alice.node.call("typing", { chat: "bob" }), { sent: true });
  assert.deepEqual(await alice.node.call("typing", { chat: "notes" }), { sent: false });
  // Nothing about typing is stored: the chat holds only what was there.
  assert.equal((await bob.node.call("read", { chat: "alice" })).length, 0);

  // In a group: to each member with a session up, who sees it in the group.
  await alice.node.call("group.create", { name: "climbers" });
  await alice.node.call("group.add", { group: "climbers", members: ["bob"] });
  await bob.waitFor((e) => e.type === "group" && e.op === "joined");
  const inGroup = bob.events.length;
  assert.deepEqual(await alice.node.call("typing", { chat: "climbers" }), { sent: true });
  const groupEv = await bob.waitFor((e) => e.type === "typing", 10_000, inGroup);
  assert.deepEqual(groupEv, { type: "typing", chat: "climbers", who: "alice" });

  // A contact that floods notices: the receiver takes one a second and drops the rest.
  await mallory.stop();
  const { client, pipe } = await rawRojPipe(mallory, alice);
  const rpc = new RpcSession(pipe, {
    hello: { features: ["sync1", RECEIPTS_FEATURE, TYPING_FEATURE], name: "mallory" },
  });
  try {
    await rpc.ready;
    const chat = directChatId(alice.node.publicKey, mallory.node.publicKey);
    const at = alice.events.length;
    const flood = () =>
      Promise.all(Array.from({ length: 20 }, () => rpc.request("chat.typing", { chat })));
    await flood();
    // Each answer comes after its notice was judged: the events are all in by now.
    const shown = () => alice.events.slice(at).filter((e) => e.type === "typing");
    assert.deepEqual(shown(), [{ type: "typing", chat: "mallory", who: "mallory" }]);
    now += TYPING_TAKE_MS; // a second later, one more is taken
    await flood();
    assert.equal(shown().length, 2);
    // A chat that is not ours with mallory is refused, and so is a group she is not in.
    const group = alice.node.chat("climbers").id;
    await assert.rejects(rpc.request("chat.typing", { chat: group }), /no such chat/);
    await assert.rejects(
      rpc.request("chat.typing", { chat: directChatId(alice.node.publicKey, bob.node.publicKey) }),
      /no such chat/,
    );
  } finally {
    rpc.close();
    client.close();
  }
});
