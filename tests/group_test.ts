/** Group chats between real nodes over real SSH. */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { isRojError } from "../node/errors.ts";
import { encodeB64, RpcSession } from "../node/protocol/mod.ts";
import { dialSsh } from "../node/transport/mod.ts";
import type { Entry } from "../node/log/mod.ts";

/** The bodies of a chat's messages (type "msg") as `t` reads them. */
async function texts(t: TestNode, chat: string): Promise<string[]> {
  const all = await t.node.call("read", { chat, markRead: false });
  return all.filter((m) => m.type === "msg").map((m) => m.body);
}

/** Waits until `t` knows a group called `name` and has `want` among its messages. */
async function sees(t: TestNode, name: string, want: string[], what: string): Promise<void> {
  await until(
    async () => {
      const chats = await t.node.call("chats", {});
      if (!chats.some((c) => c.name === name && c.kind === "group")) return false;
      const got = await texts(t, name);
      return want.every((w) => got.includes(w));
    },
    15_000,
    what,
  );
}

Deno.test("group: create, add two contacts, everyone reads everyone", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await using c = await startTestNode("carol", { host: "127.0.0.4" });
  // Bob and carol know only alice: everything between them goes through her.
  await befriend(a, b);
  await befriend(a, c);

  const created = await a.node.call("group.create", { name: "friends" });
  assert.match(created.id, /^g-[a-z2-7]{26}$/);
  assert.deepEqual(created.members.map((m) => [m.name, m.admin, m.me]), [["alice", true, true]]);
  const added = await a.node.call("group.add", { group: "friends", members: ["bob", "carol"] });
  assert.deepEqual(added.members.map((m) => m.name), ["alice", "bob", "carol"]);

  await a.node.call("send", { chat: "friends", text: "hello group" });
  await sees(b, "friends", ["hello group"], "bob joins and reads");
  await sees(c, "friends", ["hello group"], "carol joins and reads");

  await b.node.call("send", { chat: "friends", text: "bob here" });
  await c.node.call("send", { chat: "friends", text: "carol here" });
  const all = ["hello group", "bob here", "carol here"];
  for (const t of [a, b, c]) await sees(t, "friends", all, `${t.node.name} reads all`);
  // Membership notes ("alice added carol", hellos) are no unread messages, nor the preview.
  const listed = (await c.node.call("chats", {})).find((x) => x.name === "friends")!;
  assert.equal(listed.unread, 2, "alice's and bob's messages, not the notes");
  assert.equal(listed.last?.type, "msg");

  // The same history, in the same order, everywhere.
  const a1 = await texts(a, "friends");
  assert.deepEqual(await texts(b, "friends"), a1);
  assert.deepEqual(await texts(c, "friends"), a1);

  // Members as bob sees them: carol is no contact of his, so she shows by the name alice gave.
  const members = await b.node.call("group.members", { group: "friends" });
  assert.deepEqual(members.map((m) => [m.name, m.admin, m.me]), [
    ["alice", true, false],
    ["bob", false, true],
    ["carol", false, false],
  ]);
  const chat = (await b.node.call("chats", {})).find((x) => x.name === "friends")!;
  assert.equal(chat.kind, "group");
  assert.equal(chat.id, created.id);

  // Only admins change the group; bodies on the wire are ciphertext.
  await assert.rejects(
    () => b.node.call("group.remove", { group: "friends", member: "carol" }),
    (e) => isRojError(e, "refused"),
  );
  const raw = await b.node.read("friends");
  assert.ok(raw.filter((e) => e.type === "msg").every((e) => !e.body.includes("here")));
  // A membership change reads as a sentence.
  const read = await c.node.call("read", { chat: "friends" });
  assert.ok(read.some((m) => m.type === "group.add" && m.body === "alice added carol"));

  // Bob leaves: no key in use is sealed to exactly alice and carol, so alice's
  // next message first renews the key, for the two of them.
  assert.deepEqual(await b.node.call("group.leave", { group: "friends" }), { left: "friends" });
  await until(
    async () => (await a.node.call("group.members", { group: "friends" })).length === 2,
    10_000,
    "alice sees bob leave",
  );
  await a.node.call("send", { chat: "friends", text: "after bob left" });
  await sees(c, "friends", ["after bob left"], "carol reads alice after bob left");
  const carolSees = await c.node.call("read", { chat: "friends" });
  assert.deepEqual(
    carolSees.slice(-3).map((m) => m.body),
    ["bob left", "alice renewed the group key", "after bob left"],
  );
});

/** Alice's group "friends" with bob and carol, who know only alice; everyone has joined. */
async function threeInAGroup(a: TestNode, b: TestNode, c: TestNode): Promise<string> {
  await befriend(a, b);
  await befriend(a, c);
  const g = await a.node.call("group.create", { name: "friends" });
  await a.node.call("group.add", { group: "friends", members: ["bob", "carol"] });
  await a.node.call("send", { chat: "friends", text: "welcome" });
  await sees(b, "friends", ["welcome"], "bob joined");
  await sees(c, "friends", ["welcome"], "carol joined");
  return g.id;
}

Deno.test("group: a member who was offline catches up through another member", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  const b = await startTestNode("bob", { host: "127.0.0.3" });
  await using c = await startTestNode("carol", { host: "127.0.0.4" });
  let b2: TestNode | undefined;
  try {
    await threeInAGroup(a, b, c);
    await b.stop();
    for (let i = 1; i <= 30; i++) {
      await c.node.call("send", { chat: "friends", text: `from carol ${i}` });
    }
    await sees(a, "friends", ["from carol 30"], "alice has carol's messages");
    // Carol goes away too: bob can only get her messages from alice.
    await c.stop();
    b2 = await startTestNode("bob", { host: "127.0.0.3", dir: b.dir });
    const want = Array.from({ length: 30 }, (_, i) => `from carol ${i + 1}`);
    await sees(b2, "friends", want, "bob catches up through alice");
    assert.deepEqual(await texts(b2, "friends"), await texts(a, "friends"));
    // And what bob writes now reaches carol when she is back, through alice.
    await b2.node.call("send", { chat: "friends", text: "back again" });
    await sees(a, "friends", ["back again"], "alice has bob's message");
    await using c2 = await startTestNode("carol", { host: "127.0.0.4", dir: c.dir });
    await sees(c2, "friends", ["back again"], "carol gets bob's message through alice");
  } finally {
    await b2?.stop();
    await b.stop();
    await Deno.remove(b.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("group: a member back after a long absence sees the catch-up's progress", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  const b = await startTestNode("bob", { host: "127.0.0.3" });
  let b2: TestNode | undefined;
  try {
    await befriend(a, b);
    await a.node.call("group.create", { name: "friends" });
    await a.node.call("group.add", { group: "friends", members: ["bob"] });
    await sees(b, "friends", [], "bob joins");
    await b.stop();
    const n = 400;
    for (let i = 1; i <= n; i++) await a.node.call("send", { chat: "friends", text: `m${i}` });
    b2 = await startTestNode("bob", { host: "127.0.0.3", dir: b.dir });
    await sees(b2, "friends", [`m${n}`], "bob catches up");
    // The last progress event comes a moment after the entries show: wait for it, not race it.
    await b2.waitFor((e) => e.type === "progress" && e.progress.done === n, 10_000);
    const steps = b2.events.flatMap((e) => e.type === "progress" ? [e.progress] : []);
    // From nothing to everything, never backwards, with the chat and whom it comes from.
    assert.ok(steps.length >= 2, `progress events: ${JSON.stringify(steps)}`);
    assert.deepEqual(steps[0], { chat: "friends", from: "alice", done: 0, total: n });
    assert.deepEqual(steps.at(-1), { chat: "friends", from: "alice", done: n, total: n });
    for (let i = 1; i < steps.length; i++) assert.ok(steps[i]!.done >= steps[i - 1]!.done);
    // Done: status shows no catch-up under way.
    assert.equal((await b2.node.call("status", {})).catchingUp, undefined);
  } finally {
    await b2?.stop();
    await b.stop();
  }
});

Deno.test("group: a removed member cannot read what is written after the removal", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await using c = await startTestNode("carol", { host: "127.0.0.4" });
  const id = await threeInAGroup(a, b, c);
  await c.node.call("send", { chat: "friends", text: "carol before removal" });
  await sees(b, "friends", ["carol before removal"], "bob reads carol");

  const after = await a.node.call("group.remove", { group: "friends", member: "carol" });
  const removedAt = a.events.length;
  assert.deepEqual(after.members.map((m) => m.name), ["alice", "bob"]);
  // Carol learns of it (alice's last push to her) and stops being a member.
  await until(
    async () => (await c.node.call("group.members", { group: "friends" })).every((m) => !m.me),
    10_000,
    "carol sees her removal",
  );
  await assert.rejects(
    () => c.node.call("send", { chat: "friends", text: "still here?" }),
    (e) => isRojError(e, "refused"),
  );
  await until(
    async () => (await b.node.call("group.members", { group: "friends" })).length === 2,
    10_000,
    "bob sees carol removed",
  );
  await b.node.call("send", { chat: "friends", text: "secret after removal" });
  await a.node.call("send", { chat: "friends", text: "alice after removal" });
  await sees(a, "friends", ["secret after removal"], "alice reads bob");
  await sees(b, "friends", ["alice after removal"], "bob reads alice");

  // Nobody syncs the group with carol any more: alice, the only one with a session to her,
  // offers what is written after the removal to bob alone, her own message (a change) and
  // bob's (passed on, once it is in).
  await a.waitFor(
    (e) => e.type === "group-push" && e.id === id && e.reason === "forward",
    10_000,
    removedAt,
  );
  const pushes = a.events.slice(removedAt).flatMap((e) =>
    e.type === "group-push" && e.id === id ? [e] : []
  );
  assert.ok(pushes.some((e) => e.reason === "change"), JSON.stringify(pushes));
  assert.deepEqual(
    pushes.filter((e) => e.reason !== "farewell" && e.peers.includes("carol")),
    [],
  );
  assert.ok(!(await texts(c, "friends")).some((t) => /after removal/.test(t)));
  // ...and even holding every entry, she cannot decrypt the new ones.
  const entries = await a.node.log.read(id);
  const res = await c.node.log.merge(id, entries.map((e) => ({ signed: e.signed, sig: e.sig })));
  assert.ok(res.stored.length >= 2);
  const seen = await c.node.call("read", { chat: "friends" });
  const plain = seen.filter((m) => m.type === "msg").map((m) => m.body);
  assert.ok(plain.includes("carol before removal"));
  assert.ok(!plain.some((t) => /after removal/.test(t)), "carol reads no later message");
  assert.equal(plain.filter((t) => t === "(cannot decrypt)").length, 2);
  // Alice and bob still read everything, in the same order.
  const ab = await texts(a, "friends");
  assert.deepEqual(ab.slice(-2).sort(), ["alice after removal", "secret after removal"]);
  assert.deepEqual(await texts(b, "friends"), ab);
});

Deno.test("group: a contact cannot push a group that does not make us a member", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using m = await startTestNode("mallory", { host: "127.0.0.5" });
  await befriend(a, m);
  // Mallory founds groups without alice and writes to them.
  const spam: Array<{ id: string; entries: Entry[] }> = [];
  for (let i = 0; i < 5; i++) {
    const g = await m.node.call("group.create", { name: `spam ${i}` });
    await m.node.call("send", { chat: g.name, text: "buy now" });
    spam.push({ id: g.id, entries: await m.node.log.read(g.id) });
  }
  const keyPair = m.node.profile.keyPair;
  await m.stop(); // its redials would replace the raw session
  const client = await dialSsh({
    keyPair,
    to: a.node.address!,
    expectedKey: a.node.publicKey,
    expectedName: "alice",
  });
  const rpc = new RpcSession(await client.openRoj(), {
    hello: { features: ["sync1"], name: "mallory" },
  });
  try {
    await rpc.ready;
    const push = (id: string, entries: Entry[]) =>
      rpc.request("sync.push", {
        chat: id,
        entries: entries.map((e) => ({ s: encodeB64(e.signed), g: encodeB64(e.sig) })),
      });
    // Held in a scratch log (the answer says stored, as to any member)...
    for (const { id, entries } of spam.slice(0, 4)) {
      assert.deepEqual(await rpc.request("sync.heads", { chat: id }), { heads: [] });
      assert.equal((await push(id, entries)).stored, entries.length);
    }
    // ...at most four at once per session...
    await assert.rejects(
      () => rpc.request("sync.heads", { chat: spam[4]!.id }),
      (e) => isRojError(e, "not_found"),
    );
    // ...and never in alice's store or chats.
    for (const { id } of spam) assert.deepEqual(await a.node.log.read(id), []);
    assert.ok((await a.node.call("chats", {})).every((c) => c.kind !== "group"));
    // Not a group id at all, or a direct chat not hers: refused.
    await assert.rejects(
      () => rpc.request("sync.heads", { chat: "d-abc" }),
      (e) => isRojError(e, "not_found"),
    );
  } finally {
    rpc.close();
    client.close();
  }
});

Deno.test("group: removed while away, told on return, and re-added", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  const c = await startTestNode("carol", { host: "127.0.0.4" });
  let c2: TestNode | undefined;
  try {
    const id = await threeInAGroup(a, b, c);
    await c.stop();
    await a.node.call("group.remove", { group: "friends", member: "carol" });
    await a.node.call("send", { chat: "friends", text: "while carol was away" });
    await sees(b, "friends", ["while carol was away"], "bob reads alice");
    const back = a.events.length;
    c2 = await startTestNode("carol", { host: "127.0.0.4", dir: c.dir });
    // Alice tells her of the removal (the history up to it, then nothing), and sends her
    // nothing written after it.
    await a.waitFor(
      (e) =>
        e.type === "group-push" && e.id === id && e.reason === "farewell" &&
        e.peers.includes("carol"),
      10_000,
      back,
    );
    await until(
      async () => (await c2!.node.call("group.members", { group: "friends" })).every((m) => !m.me),
      10_000,
      "carol learns she was removed",
    );
    const removal = (await a.node.log.read(id)).find((e) => e.type === "group.remove")!;
    assert.deepEqual(
      a.events.slice(back).filter((e) =>
        e.type === "group-push" && e.reason !== "farewell" && e.peers.includes("carol")
      ),
      [],
    );
    const held = await c2.node.log.read(id);
    assert.ok(held.every((e) => e.lamport <= removal.lamport), "nothing after the removal");
    assert.ok(!(await texts(c2, "friends")).includes("while carol was away"));
    await assert.rejects(
      () => c2!.node.call("send", { chat: "friends", text: "hello?" }),
      (e) => isRojError(e, "refused"),
    );

    // Re-added, she reads what is written from then on (not what she missed).
    await a.node.call("group.add", { group: "friends", members: ["carol"] });
    await a.node.call("send", { chat: "friends", text: "welcome back" });
    await sees(c2, "friends", ["welcome back"], "carol is back");
    const seen = await texts(c2, "friends");
    assert.ok(!seen.includes("while carol was away"));
    assert.ok(seen.includes("(cannot decrypt)"));
    await c2.node.call("send", { chat: "friends", text: "glad to be back" });
    await sees(b, "friends", ["glad to be back"], "bob reads carol again");
    assert.deepEqual(
      (await b.node.call("group.members", { group: "friends" })).map((m) => m.name),
      ["alice", "bob", "carol"],
    );
  } finally {
    await c2?.stop();
    await c.stop();
    await Deno.remove(c.dir, { recursive: true }).catch(() => {});
  }
});
