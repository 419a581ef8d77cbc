/**
 * One identity on two nodes, in a group chat (issue 17, item 12): alice's
 * data folder copied, both copies and bob in one group, both copies write to
 * it. The copy whose entries the members did not take learns so from a
 * member's heads answer and refuses writes; the other is told too. Resolving
 * on the copy keeps the group's history below the fork point, takes in the
 * members' chain, writes the copy's messages again on top (re-encrypted, with
 * their times), does a membership change again only where the group still
 * allows it and lists the rest. Every message of both copies is then readable
 * at bob, each copy's in its order, and new messages flow both ways.
 * Real nodes over real SSH on loopback, free ports, real Deno KV files.
 */
import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import type { NodeEvent } from "../node/api/mod.ts";
import { isRojError } from "../node/errors.ts";
import { RojNode } from "../node/node.ts";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import { cliRun as cli } from "../testing/cli_run.ts";

const isConflict = (role: "first" | "second") => (e: NodeEvent) =>
  e.type === "identity" && e.op === "conflict" && e.conflict.role === role;

/** The texts of group `chat`'s messages as `n` reads them. */
async function texts(n: RojNode, chat: string): Promise<string[]> {
  if (!(await n.call("chats", {})).some((c) => c.name === chat)) return [];
  const all = await n.call("read", { chat, markRead: false });
  return all.filter((m) => m.type === "msg" || m.type === "reply").map((m) => m.body);
}

async function sees(t: TestNode, chat: string, want: string, what: string): Promise<void> {
  await until(async () => (await texts(t.node, chat)).includes(want), 20_000, what);
}

Deno.test("a copied data folder in a group: detected from a member's heads, resolved, no message lost", async () => {
  await using a1 = await startTestNode("alice", { host: "127.0.0.2" });
  await using bob = await startTestNode("bob", { host: "127.0.0.3" });
  await using carol = await startTestNode("carol", { host: "127.0.0.5" });
  await befriend(bob, a1);
  await befriend(carol, a1);
  await carol.stop(); // a contact of alice's, offline: added to the group by both copies
  await a1.node.call("group.create", { name: "climbers" });
  await a1.node.call("group.add", { group: "climbers", members: ["bob"] });
  await a1.node.call("send", { chat: "climbers", text: "a-0" });
  await sees(bob, "climbers", "a-0", "bob reads the group");

  // The person copies alice's data folder while her node is stopped; both copies go on.
  await a1.stop();
  const dir2 = await Deno.makeTempDir({ prefix: "roj-alice-copy-" });
  await cp(a1.dir, dir2, { recursive: true });
  await using restarted = await startTestNode("alice", { host: "127.0.0.2", dir: a1.dir });
  await restarted.node.call("send", { chat: "climbers", text: "a1-1" });
  await restarted.node.call("group.add", { group: "climbers", members: ["carol"] });
  await restarted.node.call("send", { chat: "climbers", text: "a1-2" });
  await sees(bob, "climbers", "a1-2", "bob reads the first node's messages");

  // The copy writes (and adds carol too) before it reaches bob.
  const events: NodeEvent[] = [];
  const a2 = await RojNode.open({ dataDir: dir2, listen: { host: "127.0.0.4", port: 0 } });
  const waitFor = (match: (e: NodeEvent) => boolean, ms = 30_000) =>
    until(() => events.some(match), ms, "an event on the copy").then(() => events.find(match)!);
  try {
    a2.subscribe((e) => events.push(e));
    const a21 = await a2.call("send", { chat: "climbers", text: "a2-1" });
    await a2.call("group.add", { group: "climbers", members: ["carol"] });
    await a2.call("send", { chat: "climbers", text: "a2-2", reply: a21.id });
    await a2.call("react", { chat: "climbers", id: a21.id, emoji: "👍" });
    await a2.start();

    // Told from bob's heads answer of the group (no twin pushed to it first).
    const second = await waitFor(isConflict("second"));
    assert.ok(second.type === "identity" && second.op === "conflict");
    assert.equal(second.conflict.chat, "climbers");
    assert.equal(second.conflict.source, "own-head");
    await assert.rejects(
      () => a2.call("send", { chat: "climbers", text: "refused" }),
      (e) => isRojError(e, "identity_conflict"),
    );
    await restarted.waitFor(isConflict("first"), 30_000);
    assert.equal(
      (await restarted.node.call("status", {})).identity?.conflict?.writesRefused,
      false,
    );

    // The person stops the first node and resolves on the copy, with the CLI.
    await restarted.stop();
    const ctl = await serveControl(controlSocketPath(dir2), a2);
    try {
      const out = await cli(["identity", "resolve", "--wait", "30s", "--json", "--data", dir2]);
      assert.equal(out.code, 0, out.stderr);
      const resolved = JSON.parse(out.stdout);
      assert.deepEqual(resolved.rebasing, ["climbers"]);
      // Only what follows the fork point goes aside: the founding, bob's add and a-0 stay.
      assert.equal(resolved.setAside, 4);
      assert.deepEqual(resolved.waiting, []);
      assert.deepEqual(resolved.redo, ["re-do: add carol to climbers"]);
      const status = await cli(["identity", "status", "--data", dir2]);
      assert.ok(status.stdout.split("\n").includes("re-do: add carol to climbers"), status.stdout);
    } finally {
      await ctl.close();
    }
    const rebased = await waitFor((e) => e.type === "identity" && e.op === "rebased");
    assert.ok(rebased.type === "identity" && rebased.op === "rebased");
    assert.equal(rebased.written, 3, "a2-1, a2-2 and the 👍; carol's add is not signed again");
    assert.deepEqual(rebased.redo, ["re-do: add carol to climbers"]);
    assert.deepEqual((await a2.call("status", {})).identity?.redo, [
      "re-do: add carol to climbers",
    ]);
    await sees(bob, "climbers", "a2-2", "the copy's messages at bob");

    // The group flows again, both ways.
    await a2.call("send", { chat: "climbers", text: "a2-3" });
    await sees(bob, "climbers", "a2-3", "a new message of the copy at bob");
    await bob.node.call("send", { chat: "climbers", text: "bob-1" });
    await until(async () => (await texts(a2, "climbers")).includes("bob-1"), 20_000, "bob-1");

    const atBob = await texts(bob.node, "climbers");
    for (const m of ["a-0", "a1-1", "a1-2", "a2-1", "a2-2", "a2-3", "bob-1"]) {
      assert.equal(atBob.filter((b) => b === m).length, 1, `${m} once at bob: ${atBob}`);
    }
    assert.deepEqual(atBob.filter((b) => b.startsWith("a1-")), ["a1-1", "a1-2"]);
    assert.deepEqual(atBob.filter((b) => b.startsWith("a2-")), ["a2-1", "a2-2", "a2-3"]);
    assert.deepEqual(await texts(a2, "climbers"), atBob, "the copy reads the same group");
    // The reply and the reaction follow the message written again.
    const read = await bob.node.call("read", { chat: "climbers", markRead: false });
    const one = read.find((m) => m.body === "a2-1")!;
    assert.equal(read.find((m) => m.body === "a2-2")?.replyTo?.id, one.id);
    assert.deepEqual(one.reactions?.map((r) => r.emoji), ["👍"]);
    const members = await bob.node.call("group.members", { group: "climbers" });
    assert.deepEqual(members.map((m) => m.name).sort(), ["alice", "bob", "carol"]);
  } finally {
    await a2.close();
    await Deno.remove(dir2, { recursive: true }).catch(() => {});
  }
});

Deno.test("a group member without own-chain keeps working: no head hashes asked of it, messages flow", async () => {
  await using alice = await startTestNode("alice", { host: "127.0.0.2" });
  await using bob = await startTestNode("bob", { host: "127.0.0.3", omitFeatures: ["own-chain"] });
  await befriend(alice, bob);
  await alice.node.call("group.create", { name: "climbers" });
  await alice.node.call("group.add", { group: "climbers", members: ["bob"] });
  await alice.node.call("send", { chat: "climbers", text: "from alice" });
  await sees(bob, "climbers", "from alice", "the older member reads");
  await bob.node.call("send", { chat: "climbers", text: "from bob" });
  await sees(alice, "climbers", "from bob", "alice reads the older member");
  assert.equal((await alice.node.call("status", {})).identity?.conflict, undefined);
});

Deno.test("a copied data folder in a group whose member predates own-chain: told from its push, resolved", async () => {
  await using a1 = await startTestNode("alice", { host: "127.0.0.2" });
  await using bob = await startTestNode("bob", { host: "127.0.0.3", omitFeatures: ["own-chain"] });
  await befriend(bob, a1);
  await a1.node.call("group.create", { name: "climbers" });
  await a1.node.call("group.add", { group: "climbers", members: ["bob"] });
  await a1.node.call("send", { chat: "climbers", text: "a-0" });
  await sees(bob, "climbers", "a-0", "bob reads the group");
  await a1.stop();
  const dir2 = await Deno.makeTempDir({ prefix: "roj-alice-copy-" });
  await cp(a1.dir, dir2, { recursive: true });
  const restarted = await startTestNode("alice", { host: "127.0.0.2", dir: a1.dir });
  await restarted.node.call("send", { chat: "climbers", text: "a1-1" });
  await restarted.node.call("send", { chat: "climbers", text: "a1-2" });
  await sees(bob, "climbers", "a1-2", "bob reads the first node's messages");
  await restarted.stop();

  const events: NodeEvent[] = [];
  const a2 = await RojNode.open({ dataDir: dir2, listen: { host: "127.0.0.4", port: 0 } });
  const waitFor = (match: (e: NodeEvent) => boolean, ms = 30_000) =>
    until(() => events.some(match), ms, "an event on the copy").then(() => events.find(match)!);
  try {
    a2.subscribe((e) => events.push(e));
    await a2.call("send", { chat: "climbers", text: "a2-1" });
    await a2.start();
    const second = await waitFor(isConflict("second"));
    assert.ok(second.type === "identity" && second.op === "conflict");
    assert.equal(second.conflict.source, "own-push");
    // Its push shows no fork point (only entries above our head): our whole chain there goes
    // aside, the group's founding too, and comes back from bob: create, hello, add, a-0, a2-1.
    assert.equal((await a2.call("identity.resolve", {})).setAside, 5);
    await waitFor((e) => e.type === "identity" && e.op === "rebased");
    await sees(bob, "climbers", "a2-1", "the copy's message at bob");
    await a2.call("send", { chat: "climbers", text: "a2-2" });
    await sees(bob, "climbers", "a2-2", "a new message of the copy at bob");
    await bob.node.call("send", { chat: "climbers", text: "bob-1" });
    await until(async () => (await texts(a2, "climbers")).includes("bob-1"), 20_000, "bob-1");
    assert.deepEqual(await texts(bob.node, "climbers"), await texts(a2, "climbers"));
    assert.deepEqual(await texts(a2, "climbers"), ["a-0", "a1-1", "a1-2", "a2-1", "a2-2", "bob-1"]);
  } finally {
    await a2.close();
    await Deno.remove(dir2, { recursive: true }).catch(() => {});
  }
});
