/** The chat list's preview of a group busy with membership changes. */
import assert from "node:assert/strict";
import { befriend, startTestNode } from "../testing/nodes.ts";

Deno.test("chat list: a group whose last 20 entries are membership notes still previews its message", async () => {
  await using a = await startTestNode("alice");
  await using b = await startTestNode("bob");
  await befriend(a, b);
  await a.node.call("group.create", { name: "busy" });
  await a.node.call("send", { chat: "busy", text: "rope at nine" });
  // Bob comes and goes: each change is a note (with the key renewals they bring), 24 or more.
  for (let i = 0; i < 12; i++) {
    await a.node.call("group.add", { group: "busy", members: ["bob"] });
    await a.node.call("group.remove", { group: "busy", member: "bob" });
  }
  const notes = (await a.node.call("read", { chat: "busy", last: 20 })).filter((m) =>
    m.type !== "msg"
  );
  assert.equal(notes.length, 20, "the last 20 entries are all notes");
  const listed = (await a.node.call("chats", {})).find((c) => c.name === "busy")!;
  assert.equal(listed.last?.type, "msg");
  assert.equal(listed.last?.body, "rope at nine");
});
