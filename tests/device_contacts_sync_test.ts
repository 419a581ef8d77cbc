/**
 * A person's contacts in step between her devices (issue 13 item 4, contacts;
 * feature devcontacts1), over real SSH: alice's laptop (the person key), her
 * phone (a certified device), bob and carol.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import { type NodeEvent, RojNode } from "../node/mod.ts";
import { tempDir } from "../testing/temp.ts";
import { keys } from "../node/store/mod.ts";
import { toHex } from "../node/log/mod.ts";

const ownUp = (e: NodeEvent) => e.type === "own-device" && e.op === "up";
const keyOf = (n: TestNode) => n.node.keyLine.split(" ").slice(0, 2).join(" ");
const named = async (n: TestNode, who: TestNode) =>
  (await n.node.call("contacts", {})).find((c) => c.publicKey.startsWith(keyOf(who)))?.name;
const bodies = async (n: TestNode, chat: string) =>
  (await n.node.call("read", { chat })).map((m) => m.body);

Deno.test("contacts added, renamed, blocked and removed on one device appear the same on the other", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await using c = await startTestNode("carol", { host: "127.0.0.5" });
  await joinPerson(phoneDir, (await a.node.call("device.link", {})).text, { name: "phone" });
  const p1 = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir });
  try {
    await p1.waitFor(ownUp, 15_000);
    // Added on the laptop: on the phone, which dials bob and chats with him.
    await befriend(a, b);
    await until(async () => (await named(p1, b)) === "bob", 10_000, "bob on the phone");
    await p1.node.call("send", { chat: "bob", text: "from the phone" });
    await until(async () => (await bodies(b, "alice")).includes("from the phone"), 15_000);
    // Added on the phone (carol's invite): on the laptop, with her key.
    await befriend(c, p1);
    await until(async () => (await named(a, c)) === "carol", 10_000, "carol on the laptop");
    // Renamed on the laptop: renamed on the phone.
    await a.node.call("rename", { name: "bob", to: "robert" });
    await until(async () => (await named(p1, b)) === "robert", 10_000, "renamed on the phone");
    // Blocked on the phone: blocked on the laptop (gone from its list, and in its book as blocked).
    await p1.node.call("block", { name: "carol" });
    await until(() => a.node.contacts.get(c.node.publicKey)?.blocked === true, 10_000, "blocked");
  } finally {
    await p1.stop();
  }
  // Removed on the laptop while the phone is away: gone from the phone at its next session.
  await a.node.call("remove", { name: "robert" });
  await using p2 = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir });
  await p2.waitFor(ownUp, 15_000);
  await until(() => p2.node.contacts.get(b.node.publicKey) === undefined, 10_000, "removed");
  assert.equal(p2.node.contacts.get(c.node.publicKey)?.blocked, true, "still blocked there");
});

Deno.test("a phone without devcontacts1 keeps its own contacts and still syncs chats", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(a, b);
  await joinPerson(phoneDir, (await a.node.call("device.link", {})).text, { name: "phone" });
  await using phone = await startTestNode("phone", {
    host: "127.0.0.4",
    dir: phoneDir,
    omitFeatures: ["devcontacts1"],
  });
  await phone.waitFor(ownUp, 15_000);
  await a.node.call("send", { chat: "bob", text: "laptop to bob" });
  await until(async () => (await bodies(phone, "bob")).includes("laptop to bob"), 15_000);
  assert.ok(!a.events.some((e) => e.type === "own-device" && e.op === "refused"));
});

/** Uploaders (keyed hash hex) of the sealed copies a node holds. */
async function holds(n: TestNode): Promise<string[]> {
  const out: string[] = [];
  for await (const e of n.node.profile.store.kv.list({ prefix: keys.sealedAll() })) {
    out.push(String(e.key[2]));
  }
  return out;
}
const online = async (n: TestNode, who: TestNode) =>
  (await n.node.call("contacts", {})).find((c) => c.publicKey.startsWith(keyOf(who)))?.online ===
    true;

Deno.test("a contact removed or blocked on the laptop leaves on the phone what `roj remove` leaves", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  await using a = await startTestNode("alice", { host: "127.61.13.2" });
  await using b = await startTestNode("bob", { host: "127.61.13.3" });
  await using c = await startTestNode("carol", { host: "127.61.13.5" });
  await joinPerson(phoneDir, (await a.node.call("device.link", {})).text, { name: "phone" });
  await befriend(a, b);
  await befriend(a, c);
  const bobKey = b.node.publicKey, carolKey = c.node.publicKey;
  // The phone holds a sealed copy each of bob and carol handed it (as a holder files them).
  const seed = await RojNode.open({ dataDir: phoneDir });
  const [bobId, carolId] = [bobKey, carolKey].map((k) => seed.contacts.storedId(k));
  for (const id of [bobId!, carolId!]) {
    const tag = crypto.getRandomValues(new Uint8Array(32));
    await seed.profile.store.kv.set(keys.sealed(toHex(tag), toHex(id)), {
      blob: new Uint8Array(64),
      uploader: id,
      at: Date.now(),
    });
  }
  await seed.close();
  await using p = await startTestNode("phone", { host: "127.61.13.4", dir: phoneDir });
  await p.waitFor(ownUp, 15_000);
  await until(async () => (await online(p, b)) && (await online(p, c)), 15_000, "phone meets both");
  assert.deepEqual((await holds(p)).sort(), [toHex(bobId!), toHex(carolId!)].sort());
  // What the phone keeps for bob: a verified mark and a relay list.
  await p.node.call("verify.mark", { name: "bob" });
  await p.node.relay.learnt(bobKey, [carolKey]);
  const kv = p.node.profile.store.kv;
  assert.ok((await kv.get(keys.verified(bobKey))).value);

  await a.node.call("remove", { name: "bob" });
  await until(() => p.node.contacts.get(bobKey) === undefined, 10_000, "removed on the phone");
  await until(async () => !(await holds(p)).includes(toHex(bobId!)), 10_000, "bob's copy dropped");
  assert.equal((await kv.get(keys.verified(bobKey))).value, null);
  assert.deepEqual(p.node.relay.relaysOf(bobKey), []);
  assert.equal((await kv.get(keys.relaysOf(bobKey))).value, null);

  // Blocked on the laptop: carol's copy on the phone goes too.
  await a.node.call("block", { name: "carol" });
  await until(() => p.node.contacts.get(carolKey)?.blocked === true, 10_000, "blocked there");
  await until(async () => (await holds(p)).length === 0, 10_000, "carol's copy dropped");
});
