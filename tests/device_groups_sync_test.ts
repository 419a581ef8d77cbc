/**
 * A person's groups across her devices (issue 13 item 4, groups; item 6,
 * their rekey at a removal; feature devgroups1), over real SSH: alice's
 * laptop (the person key), her phone (a certified device), bob and carol.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import type { NodeEvent } from "../node/mod.ts";
import { messageEpoch } from "../node/groups/mod.ts";
import { toHex } from "../node/log/mod.ts";
import { tempDir } from "../testing/temp.ts";

const ownUp = (e: NodeEvent) => e.type === "own-device" && e.op === "up";
const read = (n: TestNode, chat: string) => n.node.call("read", { chat }).catch(() => []);
const bodies = async (n: TestNode, chat: string) => (await read(n, chat)).map((m) => m.body);
const has = (n: TestNode, chat: string, text: string) => async () =>
  (await bodies(n, chat)).includes(text);
const membersOf = (
  n: TestNode,
  id: string,
) => [...(n.node.groups.get(id)?.membership.members.keys() ?? [])];

/** alice's laptop and her linked phone (up together), bob, and a group "friends" of alice and bob. */
async function setUp(dir: string, base: string) {
  const a = await startTestNode("alice", { host: `${base}.2` });
  const b = await startTestNode("bob", { host: `${base}.3` });
  await befriend(a, b);
  await joinPerson(`${dir}/phone`, (await a.node.call("device.link", {})).text, { name: "phone" });
  const phone = await startTestNode("phone", { host: `${base}.4`, dir: `${dir}/phone` });
  await phone.waitFor(ownUp, 15_000);
  const { id } = await a.node.call("group.create", { name: "friends" });
  await a.node.call("group.add", { group: "friends", members: ["bob"] });
  return { a, b, phone, id };
}

Deno.test("a group made on the laptop is usable from the phone; bob sees the phone's posts as alice's", async () => {
  await using tmp = await tempDir();
  const { a, b, phone, id } = await setUp(tmp.path, "127.43.7");
  await using _a = a, _b = b, _p = phone;
  await using c = await startTestNode("carol", { host: "127.43.7.5" });
  // The phone gets the group, its keys and its entries: it reads what the laptop wrote.
  await a.node.call("send", { chat: "friends", text: "from the laptop" });
  await until(has(phone, "friends", "from the laptop"), 15_000, "the laptop's post on the phone");
  // On the phone, alice is the group's member and admin: "me".
  const mine = (await phone.node.call("group.members", { group: "friends" })).find((m) => m.me);
  assert.deepEqual([mine?.fingerprint, mine?.admin], [a.node.fingerprint, true]);
  // It posts: bob reads it as alice's, and so does the laptop.
  await phone.node.call("send", { chat: "friends", text: "from the phone" });
  await until(has(b, "friends", "from the phone"), 15_000, "the phone's post at bob");
  const atBob = (await read(b, "friends")).find((m) => m.body === "from the phone")!;
  assert.equal(atBob.author, "alice");
  await until(has(a, "friends", "from the phone"), 15_000, "the phone's post on the laptop");
  // Bob's reply reaches the phone.
  await b.node.call("send", { chat: "friends", text: "hi both" });
  await until(has(phone, "friends", "hi both"), 15_000, "bob's post on the phone");
  // A member added on the phone (carol, a contact the laptop made): made by the laptop, seen on both.
  await befriend(a, c);
  await until(() => phone.node.contacts.get(c.node.publicKey) !== undefined, 10_000, "carol");
  await phone.node.call("group.add", { group: "friends", members: ["carol"] });
  const carol = toHex(c.node.publicKey);
  assert.ok(membersOf(a, id).includes(carol), "carol in the group on the laptop");
  assert.ok(membersOf(phone, id).includes(carol), "and on the phone once the call returns");
  await until(() => membersOf(b, id).includes(carol), 15_000, "and at bob");
  // A change on the laptop reaches the phone.
  await a.node.call("group.remove", { group: "friends", member: "carol" });
  await until(() => !membersOf(phone, id).includes(carol), 15_000, "carol removed on the phone");
});

Deno.test("a group bob made with alice is usable from her phone, also while the laptop is away", async () => {
  await using tmp = await tempDir();
  await using a = await startTestNode("alice", { host: "127.43.10.2" });
  await using b = await startTestNode("bob", { host: "127.43.10.3" });
  await befriend(a, b);
  await joinPerson(`${tmp.path}/phone`, (await a.node.call("device.link", {})).text, {
    name: "phone",
  });
  await using phone = await startTestNode("phone", {
    host: "127.43.10.4",
    dir: `${tmp.path}/phone`,
  });
  await phone.waitFor(ownUp, 15_000);
  await b.node.call("group.create", { name: "climbers" });
  await b.node.call("group.add", { group: "climbers", members: ["alice"] });
  await b.node.call("send", { chat: "climbers", text: "welcome" });
  // The laptop joins; the phone learns the group too, and reads it with the keys the laptop opened.
  await until(has(phone, "climbers", "welcome"), 20_000, "bob's post on the phone");
  // The laptop goes: the phone and bob go on with each other directly.
  await a.stop();
  await phone.node.call("send", { chat: "climbers", text: "phone only" });
  await until(has(b, "climbers", "phone only"), 15_000, "the phone's post at bob");
  assert.equal((await read(b, "climbers")).find((m) => m.body === "phone only")!.author, "alice");
  await b.node.call("send", { chat: "climbers", text: "got it" });
  await until(has(phone, "climbers", "got it"), 15_000, "bob's answer on the phone");
  // Changes need the laptop: refused with a reason while it is away.
  await assert.rejects(
    () => phone.node.call("group.leave", { group: "climbers" }),
    /holds your key/,
  );
  // The keys it was handed outlast a restart.
  await phone.stop();
  await using again = await startTestNode("phone", { host: "127.43.10.4", dir: phone.dir });
  assert.ok((await bodies(again, "climbers")).includes("welcome"));
});

Deno.test("revoking the phone: bob refuses it, and the group is rekeyed so the phone reads nothing new", async () => {
  await using tmp = await tempDir();
  const { a, b, phone, id } = await setUp(tmp.path, "127.43.8");
  await using _a = a, _b = b, _p = phone;
  await a.node.call("send", { chat: "friends", text: "before" });
  await until(has(phone, "friends", "before"), 15_000, "the phone reads the group");
  const epochs = () => a.node.groups.get(id)!.membership.epochs.map((e) => e.id);
  const before = epochs();
  await a.node.call("device.remove", { name: "phone" });
  // Bob takes the revocation; the laptop rotates the group's key, and bob holds the new epoch.
  await b.waitFor((e) => e.type === "device" && e.op === "revoked", 15_000);
  await until(() => epochs().length > before.length, 10_000, "the group rekeyed");
  const fresh = epochs().at(-1)!;
  await until(
    () => b.node.groups.get(id)!.membership.epochs.some((e) => e.id === fresh),
    15_000,
    "bob has the new epoch",
  );
  await b.node.call("send", { chat: "friends", text: "after the removal" });
  await until(has(a, "friends", "after the removal"), 15_000, "the laptop reads it");
  const entry = (await a.node.log.read(id)).find((e) => e.type === "msg" && bytesOf(e, b));
  const epoch = messageEpoch(entry!.body)!;
  assert.equal(epoch, fresh, "bob wrote with the new key");
  assert.ok(!before.includes(epoch));
  // The phone holds no key for it: not handed (it was removed), not sealed to it.
  assert.equal(await phone.node.groups.epochKey(id, epoch), null);
  const onPhone = (await read(phone, "friends")).find((m) => m.body === "after the removal");
  assert.equal(onPhone, undefined, "the phone cannot read it");
});

const bytesOf = (e: { author: Uint8Array }, n: TestNode) =>
  toHex(e.author) === toHex(n.node.publicKey);

Deno.test("a phone without devgroups1 is handed no group; the group and the chats go on", async () => {
  await using tmp = await tempDir();
  await using a = await startTestNode("alice", { host: "127.43.9.2" });
  await using b = await startTestNode("bob", { host: "127.43.9.3" });
  await befriend(a, b);
  await joinPerson(`${tmp.path}/phone`, (await a.node.call("device.link", {})).text, {
    name: "phone",
  });
  await using phone = await startTestNode("phone", {
    host: "127.43.9.4",
    dir: `${tmp.path}/phone`,
    omitFeatures: ["devgroups1"],
  });
  await phone.waitFor(ownUp, 15_000);
  await a.node.call("group.create", { name: "friends" });
  await a.node.call("group.add", { group: "friends", members: ["bob"] });
  await a.node.call("send", { chat: "friends", text: "to the group" });
  await until(has(b, "friends", "to the group"), 15_000, "the group at bob");
  await b.node.call("send", { chat: "alice", text: "to alice" });
  await until(has(phone, "bob", "to alice"), 15_000, "the direct chat on the phone");
  assert.ok(!a.events.some((e) => e.type === "own-device" && e.op === "refused"));
});
