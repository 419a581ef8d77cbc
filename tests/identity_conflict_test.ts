/**
 * One identity on two nodes (issue 17, item 12): a data folder copied and run
 * twice forks the person's own chain. Both nodes are told, the one whose
 * entries the contact did not take writes nothing until the person resolves
 * it, and resolving loses no message: every message of both copies ends up at
 * the contact, each copy's in its order, and new ones flow again.
 * Real nodes over real SSH on loopback, free ports, real Deno KV files.
 */
import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import type { NodeEvent } from "../node/api/mod.ts";
import { isRojError } from "../node/errors.ts";
import { RojNode } from "../node/node.ts";
import { befriend, startTestNode, until } from "../testing/nodes.ts";

type IdentityEvent = Extract<NodeEvent, { type: "identity" }>;
const isConflict = (role: "first" | "second") => (e: NodeEvent) =>
  e.type === "identity" && e.op === "conflict" && e.conflict.role === role;

/** A node opened on `dir` but not started: it writes with no session up, as a copy would offline. */
async function openQuiet(dir: string, host: string) {
  const events: NodeEvent[] = [];
  const node = await RojNode.open({
    dataDir: dir,
    listen: { host, port: 0 },
    dialTimeoutMs: 2000,
    ...(Deno.env.get("ROJ_VERBOSE") ? { log: (l: string) => console.log(`[alice-2] ${l}`) } : {}),
  });
  node.subscribe((e) => events.push(e));
  const waitFor = (match: (e: NodeEvent) => boolean, ms = 20_000) =>
    until(() => events.some(match), ms, "an event on the copy").then(() => events.find(match)!);
  return { node, events, waitFor };
}

const bodies = async (n: RojNode, chat: string) =>
  (await n.call("read", { chat, markRead: false })).map((m) => m.body);

Deno.test("a copied data folder run twice: both told, the second refuses writes, resolve loses no message", async () => {
  await using a1 = await startTestNode("alice", { host: "127.0.0.2" });
  await using bob = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(bob, a1);
  await a1.node.call("send", { chat: "bob", text: "a1-0" });
  await bob.waitFor((e) => e.type === "message" && e.message.body === "a1-0");

  // The person copies alice's data folder (say, to a new laptop) while her node is stopped.
  await a1.stop();
  const dir2 = await Deno.makeTempDir({ prefix: "roj-alice-copy-" });
  await cp(a1.dir, dir2, { recursive: true });
  await using restarted = await startTestNode("alice", { host: "127.0.0.2", dir: a1.dir });
  await restarted.node.call("send", { chat: "bob", text: "a1-1" });
  await bob.waitFor((e) => e.type === "message" && e.message.body === "a1-1");

  // The copy writes before it reaches bob: its #2 differs from the one bob took.
  const a2 = await openQuiet(dir2, "127.0.0.4");
  try {
    await a2.node.call("send", { chat: "bob", text: "a2-1" });
    await a2.node.call("send", { chat: "bob", text: "a2-2" });
    await a2.node.start();

    // The copy learns it is the second: bob holds another entry of ours at a place of our chain.
    const second = await a2.waitFor(isConflict("second")) as IdentityEvent;
    assert.equal(second.op === "conflict" && second.conflict.chat, "bob");
    const s2 = await a2.node.call("status", {});
    assert.equal(s2.identity?.conflict?.role, "second");
    assert.equal(s2.identity?.conflict?.writesRefused, true);
    await assert.rejects(
      () => a2.node.call("send", { chat: "bob", text: "refused" }),
      (e) => isRojError(e, "identity_conflict") && /roj identity resolve/.test(e.message),
    );
    // "✓ delivered" is never shown for the copy's entries that bob does not hold.
    const copyView = await a2.node.call("read", { chat: "bob", markRead: false });
    for (const m of copyView.filter((m) => m.body.startsWith("a2-"))) {
      assert.notEqual(m.state, "delivered", `${m.body} is not at bob`);
    }

    // The first node is told too (bob refuses its sessions while the copy's is up, and says
    // why; or from bob's record of the copy's twin), and still writes.
    const first = await restarted.waitFor(isConflict("first"), 30_000) as IdentityEvent;
    assert.ok(
      first.op === "conflict" && ["own-session", "own-twin"].includes(first.conflict.source),
    );
    const twin = await bob.waitFor((e) => e.type === "identity" && e.op === "twin-sessions");
    const sessionsUp = (from: number) =>
      bob.events.slice(from).filter((e) =>
        e.type === "session" && e.state === "up" && e.peer === "alice"
      ).length;
    const afterTwin = bob.events.indexOf(twin);
    const s1 = await restarted.node.call("status", {});
    assert.equal(s1.identity?.conflict?.role, "first");
    assert.equal(s1.identity?.conflict?.writesRefused, false);

    // Bob kept the copy's session and refused the first node's, which waits before dialling
    // again: the two no longer take turns (they did, many times a second, before).
    assert.ok(sessionsUp(afterTwin) <= 1, `sessions of alice at bob: ${sessionsUp(afterTwin)}`);

    // The person stops the first node (which still wrote a1-2, unsent) and resolves on the
    // copy: its messages go after bob's chain.
    await restarted.stop();
    const quiet = await openQuiet(a1.dir, "127.0.0.2");
    await quiet.node.call("send", { chat: "bob", text: "a1-2" });
    await quiet.node.close();
    const resolved = await a2.node.call("identity.resolve", {});
    assert.deepEqual(resolved.rebasing, ["bob"]);
    assert.ok(resolved.setAside >= 3, `set aside ${resolved.setAside}`);
    await a2.waitFor((e) => e.type === "identity" && e.op === "rebased", 30_000);
    assert.equal((await a2.node.call("status", {})).identity?.conflict, undefined);
    await until(
      async () => (await bodies(bob.node, "alice")).includes("a2-2"),
      20_000,
      "the copy's messages at bob",
    );

    // And the chat flows again, both ways.
    const sent = await a2.node.call("send", { chat: "bob", text: "a2-3" });
    await bob.waitFor((e) => e.type === "message" && e.message.body === "a2-3", 20_000);
    await a2.waitFor((e) => e.type === "delivered" && e.chat === "bob" && e.seq >= sent.seq);
    await bob.node.call("send", { chat: "alice", text: "bob-1" });
    await a2.waitFor((e) => e.type === "message" && e.message.body === "bob-1");

    // The person goes back to the first node, whose a1-2 came after the fork: it is the
    // second now; resolving there writes a1-2 again too.
    await a2.node.close();
    await using back = await startTestNode("alice", { host: "127.0.0.2", dir: a1.dir });
    await back.waitFor(isConflict("second"), 30_000);
    await assert.rejects(
      () => back.node.call("send", { chat: "bob", text: "refused" }),
      (e) => isRojError(e, "identity_conflict"),
    );
    assert.deepEqual((await back.node.call("identity.resolve", {})).rebasing, ["bob"]);
    await back.waitFor((e) => e.type === "identity" && e.op === "rebased", 30_000);
    await until(
      async () => (await bodies(bob.node, "alice")).includes("a1-2"),
      20_000,
      "a1-2 at bob",
    );

    const atBob = await bodies(bob.node, "alice");
    for (const m of ["a1-0", "a1-1", "a1-2", "a2-1", "a2-2", "a2-3", "bob-1"]) {
      assert.equal(atBob.filter((b) => b === m).length, 1, `${m} once at bob: ${atBob}`);
    }
    const order = (prefix: string) => atBob.filter((b) => b.startsWith(prefix));
    assert.deepEqual(order("a1-"), ["a1-0", "a1-1", "a1-2"]);
    assert.deepEqual(order("a2-"), ["a2-1", "a2-2", "a2-3"]);
    // Both copies' messages are alice's at bob, and the first node holds the whole chat too.
    await until(
      async () => (await bodies(back.node, "bob")).length === atBob.length,
      20_000,
      "the whole chat on the first node",
    );
    assert.deepEqual(await bodies(back.node, "bob"), atBob);
    const after = await back.node.call("send", { chat: "bob", text: "a1-3" });
    await bob.waitFor((e) => e.type === "message" && e.message.body === "a1-3", 20_000);
    await back.waitFor((e) => e.type === "delivered" && e.chat === "bob" && e.seq >= after.seq);
    assert.equal((await back.node.call("status", {})).identity?.conflict, undefined, "settled");
  } finally {
    await a2.node.close();
    await Deno.remove(dir2, { recursive: true }).catch(() => {});
  }
});
