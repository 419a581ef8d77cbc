/**
 * Each chat's settings and read state in step between a person's devices
 * (issue 18 item 5, issue 13 item 4 "read state"; feature devprefs1), over
 * real SSH: alice's laptop (the person key), her phone (a certified device)
 * and bob. Everything is asked through the local API the admin uses (`chats`,
 * `chat.set`, `read`).
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import type { ChatView, NodeEvent } from "../node/mod.ts";
import { tempDir } from "../testing/temp.ts";

const ownUp = (e: NodeEvent) => e.type === "own-device" && e.op === "up";
const chatOf = async (n: TestNode, name: string): Promise<ChatView | undefined> =>
  (await n.node.call("chats", {})).find((c) => c.name === name);
/** Muted, pinned, archived, as "m p a" letters ("-" when off). */
const flags = async (n: TestNode, name: string) => {
  const p = (await chatOf(n, name))?.prefs;
  return p ? `${p.muted ? "m" : "-"}${p.pinned ? "p" : "-"}${p.archived ? "a" : "-"}` : "none";
};
const unread = async (n: TestNode, name: string) => (await chatOf(n, name))?.unread;
/** The bodies a node holds in a chat, without marking it read. */
const bodies = async (n: TestNode, chat: string) =>
  (await n.node.call("read", { chat, markRead: false })).map((m) => m.body);

Deno.test("mute, pin, archive and reading a chat on one device show on the other, and survive a restart", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  await using a = await startTestNode("alice", { host: "127.61.18.2" });
  await using b = await startTestNode("bob", { host: "127.61.18.3" });
  await befriend(a, b);
  await joinPerson(phoneDir, (await a.node.call("device.link", {})).text, { name: "phone" });
  const p1 = await startTestNode("phone", { host: "127.61.18.4", dir: phoneDir });
  try {
    await p1.waitFor(ownUp, 15_000);
    await until(async () => (await chatOf(p1, "bob")) !== undefined, 10_000, "bob on the phone");
    // Set on the laptop: shown on the phone.
    await a.node.call("chat.set", { chat: "bob", muted: true, pinned: true });
    await until(async () => (await flags(p1, "bob")) === "mp-", 10_000, "muted on the phone");
    // The admin's chat list hears of it (it refreshes on any event but a log line).
    await p1.waitFor((e) => e.type === "chat-synced", 10_000);
    // And back: set on the phone, shown on the laptop.
    await p1.node.call("chat.set", { chat: "bob", muted: false, archived: true });
    await until(async () => (await flags(a, "bob")) === "-pa", 10_000, "archived on the laptop");
    // Bob writes: unread on both; read on the laptop: read on the phone.
    await b.node.call("send", { chat: "alice", text: "one" });
    await b.node.call("send", { chat: "alice", text: "two" });
    await until(async () => (await unread(a, "bob")) === 2, 10_000, "unread on the laptop");
    await until(async () => (await unread(p1, "bob")) === 2, 10_000, "unread on the phone");
    await a.node.call("read", { chat: "bob" });
    assert.equal(await unread(a, "bob"), 0);
    await until(async () => (await unread(p1, "bob")) === 0, 10_000, "read on the phone");
    // What the phone writes is the person's own: not unread on the laptop.
    await p1.node.call("send", { chat: "bob", text: "from the phone" });
    await until(async () => (await bodies(a, "bob")).includes("from the phone"), 10_000);
    assert.equal(await unread(a, "bob"), 0, "the person's own message is no unread one");
  } finally {
    await p1.stop();
  }
  // While the phone is away: unpinned on the laptop, and a message from bob read there.
  await a.node.call("chat.set", { chat: "bob", pinned: false });
  await b.node.call("send", { chat: "alice", text: "while away" });
  await until(async () => (await bodies(a, "bob")).includes("while away"), 10_000);
  await a.node.call("read", { chat: "bob" });
  const p2 = await startTestNode("phone", { host: "127.61.18.4", dir: phoneDir });
  try {
    await p2.waitFor(ownUp, 15_000);
    await until(async () => (await flags(p2, "bob")) === "--a", 10_000, "unpinned on the phone");
    await until(async () => (await bodies(p2, "bob")).includes("while away"), 10_000);
    await until(async () => (await unread(p2, "bob")) === 0, 10_000, "read on the phone");
  } finally {
    await p2.stop();
  }
  // The phone alone (the laptop stopped): it kept what it took.
  const laptopPort = a.node.address!.port; // back at it, where the phone dials it
  await a.stop();
  await using p3 = await startTestNode("phone", { host: "127.61.18.4", dir: phoneDir });
  assert.equal(await flags(p3, "bob"), "--a");
  assert.equal(await unread(p3, "bob"), 0);
  // A read on the phone while the laptop is away reaches it when it is back.
  await b.node.call("send", { chat: "alice", text: "to the phone" });
  await until(async () => (await unread(p3, "bob")) === 1, 15_000, "bob's message on the phone");
  await p3.node.call("read", { chat: "bob" });
  await using a2 = await startTestNode("alice", {
    host: "127.61.18.2",
    port: laptopPort,
    dir: a.dir,
  });
  await a2.waitFor(ownUp, 30_000);
  await until(async () => (await bodies(a2, "bob")).includes("to the phone"), 15_000);
  await until(async () => (await unread(a2, "bob")) === 0, 10_000, "read on the laptop");
});

Deno.test("a phone without devprefs1 keeps its own chat settings and still syncs chats", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  await using a = await startTestNode("alice", { host: "127.61.19.2" });
  await using b = await startTestNode("bob", { host: "127.61.19.3" });
  await befriend(a, b);
  await joinPerson(phoneDir, (await a.node.call("device.link", {})).text, { name: "phone" });
  await using phone = await startTestNode("phone", {
    host: "127.61.19.4",
    dir: phoneDir,
    omitFeatures: ["devprefs1"],
  });
  await phone.waitFor(ownUp, 15_000);
  await a.node.call("chat.set", { chat: "bob", muted: true });
  await a.node.call("send", { chat: "bob", text: "laptop to bob" });
  await until(async () => (await bodies(phone, "bob")).includes("laptop to bob"), 15_000);
  assert.equal(await flags(phone, "bob"), "---", "never sent to a phone that does not list it");
  assert.ok(!a.events.some((e) => e.type === "own-device" && e.op === "refused"));
});
