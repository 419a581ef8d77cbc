/** Two real nodes over real SSH on their own loopback addresses. */
import assert from "node:assert/strict";
import { startTestNode, until } from "../testing/nodes.ts";
import { isRojError } from "../node/errors.ts";

Deno.test("invite, add, send both ways, delivery state", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  const invite = await a.node.call("invite", {});
  assert.match(invite.text, /^roj1:/);
  assert.deepEqual(invite.addresses, [`127.0.0.2:${a.node.address!.port}`]);
  const added = await b.node.call("add", { invite: invite.text });
  assert.equal(added.name, "alice");
  await until(
    async () => (await a.node.call("contacts", {})).some((c) => c.name === "bob" && c.online),
    5000,
    "alice sees bob",
  );

  const sent = await b.node.call("send", { chat: "alice", text: "hi alice" });
  assert.equal(sent.state, "stored");
  await a.waitFor((e) => e.type === "message" && e.message.body === "hi alice" && !e.message.mine);
  await b.waitFor((e) => e.type === "delivered" && e.chat === "alice" && e.seq >= 1);
  assert.equal((await b.node.call("read", { chat: "alice" }))[0]!.state, "delivered");

  await a.node.call("send", { chat: "bob", text: "hi bob" });
  await b.waitFor((e) => e.type === "message" && e.message.body === "hi bob");
  const convo = await a.node.call("read", { chat: "bob" });
  assert.deepEqual(convo.map((m) => m.body), ["hi alice", "hi bob"]);
  const chats = await b.node.call("chats", {});
  assert.deepEqual(chats.map((c) => c.name).sort(), ["alice", "notes"]);

  // The invite was single-use.
  const carol = await startTestNode("carol", { host: "127.0.0.4" });
  try {
    await assert.rejects(
      () => carol.node.call("add", { invite: invite.text }),
      (e) => isRojError(e, "refused") && /already used/.test(e.message),
    );
  } finally {
    await carol[Symbol.asyncDispose]();
  }
});

Deno.test("rename, block and remove a contact", async () => {
  const { befriend } = await import("../testing/nodes.ts");
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(a, b);
  await b.node.call("send", { chat: "alice", text: "hello" });
  await a.waitFor((e) => e.type === "message" && e.message.body === "hello");
  const renamed = await a.node.call("rename", { name: "bob", to: "Bobby" });
  assert.equal(renamed.name, "Bobby");
  assert.deepEqual((await a.node.call("read", { chat: "Bobby" })).map((m) => m.body), ["hello"]);
  await assert.rejects(
    () => a.node.call("rename", { name: "Bobby", to: "notes" }),
    (e) => isRojError(e, "exists"),
  );

  await a.node.call("block", { name: "Bobby" });
  await until(async () => !(await b.node.call("contacts", {}))[0]!.online, 5000, "bob cut off");
  assert.deepEqual(await a.node.call("contacts", {}), []);
  // Bob's node keeps trying; alice's refuses at authentication (the SSH login, not later).
  await b.waitFor(
    (e) =>
      e.type === "dial-failed" && e.peer === "alice" && e.stage === "ssh" && e.code === "refused",
    10_000,
  );
  await assert.rejects(
    () => a.node.call("send", { chat: "Bobby", text: "x" }),
    (e) => isRojError(e, "not_found"),
  );
});
