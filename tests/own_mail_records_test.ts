/**
 * A person's devices that are never online together (issue 13 item 4,
 * feature ownmail2): chat settings, read marks and issued invites reach the
 * other device through the anchor both use, in boxes of their own, as the
 * contact records do (own_mail_test.ts); an older device that lists ownmail1
 * but not ownmail2 is filed none of them, and still gets its entries.
 */
import assert from "node:assert/strict";
import { befriend, joinAnchor, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import { type ChatView, type NodeEvent, parseInvite } from "../node/mod.ts";
import { tempDir } from "../testing/temp.ts";
import { hex } from "@scure/base";

const ownUp = (e: NodeEvent) => e.type === "own-device" && e.op === "up";
const filed = (kind: string) => (e: NodeEvent) =>
  e.type === "own-mail" && e.op === "filed" && e.kind === kind;
const chatOf = async (n: TestNode, name: string): Promise<ChatView | undefined> =>
  (await n.node.call("chats", {})).find((c) => c.name === name);
/** Muted, pinned, archived, as "m p a" letters ("-" when off). */
const flags = async (n: TestNode, name: string) => {
  const p = (await chatOf(n, name))?.prefs;
  return p ? `${p.muted ? "m" : "-"}${p.pinned ? "p" : "-"}${p.archived ? "a" : "-"}` : "none";
};
const bodies = async (n: TestNode, chat: string) =>
  (await n.node.call("read", { chat, markRead: false })).filter((m) => m.type === "msg")
    .map((m) => m.body);
const nonceOf = async (text: string) => hex.encode((await parseInvite(text, Date.now())).nonce);

/** Runs `act` and waits for the filing of `kind` it caused (any event of it after the act began). */
async function andFiled(n: TestNode, kind: string, act: () => Promise<unknown>): Promise<void> {
  const from = n.events.length;
  await act();
  await n.waitFor(filed(kind), 15_000, from);
}

Deno.test("own mail: chat settings, read marks and invites reach a device never online with this one", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  const hive = await startTestNode("hive", { host: "127.9.47.1", passive: true });
  const laptop = await startTestNode("alice", { host: "127.9.47.2" });
  const bob = await startTestNode("bob", { host: "127.9.47.3" });
  const nodes: TestNode[] = [hive, laptop, bob];
  try {
    await joinAnchor(laptop, hive);
    await befriend(laptop, bob);
    await joinPerson(phoneDir, (await laptop.node.call("device.link", {})).text, {
      name: "phone",
    });
    // Bob writes while the phone is away; then he stops: the phone never meets him.
    for (const text of ["one", "two"]) await bob.node.call("send", { chat: "alice", text });
    await until(async () => (await chatOf(laptop, "bob"))?.unread === 2, 10_000, "unread here");
    await bob.stop();
    await laptop.waitFor((e) => e.type === "own-mail" && e.op === "deposited", 15_000);

    // Read and muted on the laptop, and an invite issued there, each filed for the phone.
    await andFiled(laptop, "settings", () => laptop.node.call("read", { chat: "bob" }));
    await andFiled(
      laptop,
      "settings",
      () => laptop.node.call("chat.set", { chat: "bob", muted: true }),
    );
    let invite = "";
    await andFiled(laptop, "invites", async () => {
      invite = (await laptop.node.call("invite", { uses: 2 })).text;
    });
    const nonce = await nonceOf(invite);
    await laptop.node.ownMailIdle();
    const laptopPort = laptop.node.address!.port;
    await laptop.stop();

    // The phone starts after the laptop stopped: bob's chat is there, muted and read.
    const phone = await startTestNode("phone", { host: "127.9.47.4", dir: phoneDir });
    nodes.push(phone);
    await until(async () => (await bodies(phone, "bob")).length === 2, 20_000, "bob's chat");
    await until(async () => (await flags(phone, "bob")) === "m--", 15_000, "muted on the phone");
    await until(async () => (await chatOf(phone, "bob"))?.unread === 0, 15_000, "read there");
    await until(() => phone.node.invites.isValid(nonce, Date.now()), 15_000, "invite known");
    assert.ok(!phone.events.some(ownUp), "the phone met the laptop");

    // The reverse: the phone pins bob's chat and issues an invite, then stops.
    await andFiled(
      phone,
      "settings",
      () => phone.node.call("chat.set", { chat: "bob", pinned: true }),
    );
    let phoneInvite = "";
    await andFiled(phone, "invites", async () => {
      phoneInvite = (await phone.node.call("invite", {})).text;
    });
    const phoneNonce = await nonceOf(phoneInvite);
    await phone.node.ownMailIdle();
    await phone.stop();

    // The laptop comes back where the phone's invite says it is, and knows both.
    const laptop2 = await startTestNode("alice", {
      host: "127.9.47.2",
      port: laptopPort,
      dir: laptop.dir,
    });
    nodes.push(laptop2);
    await until(async () => (await flags(laptop2, "bob")) === "mp-", 20_000, "pinned here");
    await until(() => laptop2.node.invites.isValid(phoneNonce, Date.now()), 15_000, "its invite");
    assert.ok(!laptop2.events.some(ownUp), "the laptop met the phone");
    // Carol redeems the phone's invite at the laptop (the phone is away): alice's contact now.
    await using carol = await startTestNode("carol", { host: "127.9.47.5" });
    await carol.node.call("add", { invite: phoneInvite });
    await until(
      () => laptop2.node.contacts.get(carol.node.publicKey) !== undefined,
      15_000,
      "carol is a contact at the laptop",
    );
    assert.ok(!laptop2.node.invites.isValid(phoneNonce, Date.now()), "its one use is spent");
  } finally {
    for (const n of nodes) await n.stop();
  }
});

Deno.test("own mail: a device that lists ownmail1 but not ownmail2 is filed its entries, not the new boxes", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  await using hive = await startTestNode("hive", { host: "127.9.47.6", passive: true });
  await using laptop = await startTestNode("alice", { host: "127.9.47.7" });
  await using bob = await startTestNode("bob", { host: "127.9.47.8" });
  await joinAnchor(laptop, hive);
  await befriend(laptop, bob);
  await bob.stop();
  await joinPerson(phoneDir, (await laptop.node.call("device.link", {})).text, { name: "phone" });
  // They meet once, so the laptop knows what the phone's hello lists.
  const old = await startTestNode("phone", {
    host: "127.9.47.9",
    dir: phoneDir,
    omitFeatures: ["ownmail2"],
  });
  try {
    await laptop.waitFor(ownUp, 15_000);
  } finally {
    await old.stop();
  }
  await laptop.waitFor((e) => e.type === "own-device" && e.op === "down", 15_000);
  const from = laptop.events.length;
  await laptop.node.call("chat.set", { chat: "bob", muted: true });
  await laptop.node.call("invite", {});
  await laptop.node.call("send", { chat: "bob", text: "for the old phone" });
  await laptop.waitFor((e) => e.type === "own-mail" && e.op === "deposited", 15_000, from);
  await laptop.node.ownMailIdle();
  assert.ok(
    !laptop.events.slice(from).some((e) => filed("settings")(e) || filed("invites")(e)),
    "settings or invites filed for an older device",
  );
  // The older phone still reads its own mail: the entry reaches it through the anchor.
  await using phone = await startTestNode("phone", {
    host: "127.9.47.9",
    dir: phoneDir,
    omitFeatures: ["ownmail2", "devsync1"],
  });
  await until(
    async () => (await bodies(phone, "bob")).includes("for the old phone"),
    20_000,
    "the older phone has it",
  );
});
