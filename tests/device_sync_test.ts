/**
 * A person's devices in one chat (issue 13 items 4 and 5, the chat core), over
 * real SSH: alice on a laptop (the person key) and a phone (a certified device
 * key), and bob. Bob keeps a session with each of alice's devices at once and
 * pushes what he writes to both; the laptop and the phone sync their chats
 * with each other directly.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import type { NodeEvent } from "../node/mod.ts";
import { tempDir } from "../testing/temp.ts";

type SessionEvent = NodeEvent & { type: "session" };

const sessionUp = (peer: string, device?: string) => (e: NodeEvent) =>
  e.type === "session" && e.state === "up" && e.peer === peer && e.device === device;

const bodies = async (n: TestNode, chat: string) =>
  (await n.node.call("read", { chat })).map((m) => m.body);

Deno.test("bob keeps a session with the laptop and one with the phone; his message reaches both", async () => {
  await using tmp = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(a, b);
  const joined = await joinPerson(
    `${tmp.path}/phone`,
    (await a.node.call("device.link", {})).text,
    {
      name: "phone",
    },
  );
  await using phone = await startTestNode("phone", { host: "127.0.0.4", dir: `${tmp.path}/phone` });
  const up = await b.waitFor(sessionUp("alice", joined.fingerprint), 15_000) as SessionEvent;
  assert.equal(up.fingerprint, a.node.fingerprint);
  assert.ok(b.events.some(sessionUp("alice")), "the laptop's session is up too");
  await b.node.call("send", { chat: "alice", text: "to both" });
  await until(async () => (await bodies(a, "bob")).includes("to both"), 10_000, "laptop has it");
  await until(async () => (await bodies(phone, "bob")).includes("to both"), 10_000, "phone has it");
});
