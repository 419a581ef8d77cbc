/**
 * The person's agreement key on her devices (issue 13 item 1, feature
 * devagree1), over real SSH: alice's laptop (the person key) hands her phone
 * the agreement key, both publish it, and bob seals group keys to it, so the
 * phone opens a group key bob made while the laptop is away.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import type { NodeEvent } from "../node/mod.ts";
import { messageEpoch, openGroupKey } from "../node/groups/mod.ts";
import { toHex } from "../node/log/mod.ts";
import { keys } from "../node/store/mod.ts";
import { bytesEqual } from "../node/wire/mod.ts";
import { agreementPublicKey } from "../node/identity/mod.ts";
import { tempDir } from "../testing/temp.ts";

const ownUp = (e: NodeEvent) => e.type === "own-device" && e.op === "up";
const read = (n: TestNode, chat: string) => n.node.call("read", { chat }).catch(() => []);
const has = (n: TestNode, chat: string, text: string) => async () =>
  (await read(n, chat)).some((m) => m.body === text);
const epochsOf = (n: TestNode, id: string) =>
  n.node.groups.get(id)?.membership.epochs.map((e) => e.id) ?? [];
/** The agreement key generations a device was handed. */
const handedTo = async (n: TestNode) =>
  (await n.node.profile.store.kv.get<{ gen: number; seed: Uint8Array }[]>(
    keys.personAgreement(),
  )).value ?? [];
/** The X25519 key of a handed generation, as the hello publishes it. */
const publicOf = (person: Uint8Array, seed: Uint8Array) =>
  agreementPublicKey({ publicKey: person, seed, comment: "" });
/** The person agreement key `n` heard for `person`. */
const heard = async (n: TestNode, person: Uint8Array) =>
  (await n.node.profile.store.kv.get<Uint8Array>(keys.personAgreeKey(person))).value;

Deno.test("with the laptop stopped, the phone opens a group key bob rekeyed and reads his message", async () => {
  await using tmp = await tempDir();
  await using a = await startTestNode("alice", { host: "127.47.31.2" });
  await using b = await startTestNode("bob", { host: "127.47.31.3" });
  await using c = await startTestNode("carol", { host: "127.47.31.5" });
  await befriend(a, b);
  await befriend(b, c);
  // Bob, in a session with the laptop since before the linking, is told the key (agree.person).
  await joinPerson(`${tmp.path}/phone`, (await a.node.call("device.link", {})).text, {
    name: "phone",
  });
  await until(async () => (await heard(b, a.node.publicKey)) !== null, 15_000, "bob heard it");
  await using phone = await startTestNode("phone", {
    host: "127.47.31.4",
    dir: `${tmp.path}/phone`,
  });
  await phone.waitFor(ownUp, 15_000);
  // The laptop hands the phone the same key.
  await until(async () => (await handedTo(phone)).length > 0, 15_000, "the phone holds it");
  const [gen0] = await handedTo(phone);
  assert.deepEqual(await heard(b, a.node.publicKey), publicOf(a.node.publicKey, gen0!.seed));
  const bobOnPhone = (e: NodeEvent) => e.type === "session" && e.state === "up" && e.peer === "bob";
  await phone.waitFor(bobOnPhone, 15_000);
  const { id } = await b.node.call("group.create", { name: "climbers" });
  await b.node.call("group.add", { group: "climbers", members: ["alice", "carol"] });
  await b.node.call("send", { chat: "climbers", text: "welcome" });
  await until(has(phone, "climbers", "welcome"), 20_000, "bob's post on the phone");
  const before = epochsOf(b, id);
  // The laptop goes; bob removes carol, which rotates the group's key, sealed to alice's agreement key.
  await a.stop();
  await b.node.call("group.remove", { group: "climbers", member: "carol" });
  const fresh = epochsOf(b, id).filter((e) => !before.includes(e));
  assert.equal(fresh.length, 1, "bob made a new epoch");
  await b.node.call("send", { chat: "climbers", text: "after the laptop left" });
  await until(has(phone, "climbers", "after the laptop left"), 20_000, "read on the phone");
  const entry = (await phone.node.log.read(id)).find((e) =>
    e.type === "msg" && bytesEqual(e.author, b.node.publicKey) &&
    messageEpoch(e.body) === fresh[0]
  );
  assert.ok(entry, "bob wrote it with the new key");
  // Opened on the phone itself: the laptop, stopped, handed no key of that epoch.
  const handed = await phone.node.profile.store.kv.get(keys.handedKey(id, fresh[0]!));
  assert.equal(handed.value, null, "no key of that epoch was handed");
  assert.ok(await phone.node.groups.epochKey(id, fresh[0]!));
});

Deno.test("the phone opens bob's sealed record after bob moved: his new address from carol, his old one dead", async () => {
  await using tmp = await tempDir();
  await using a = await startTestNode("alice", { host: "127.47.32.2" });
  await using b = await startTestNode("bob", { host: "127.47.32.3" });
  await using c = await startTestNode("carol", { host: "127.47.32.5" });
  await befriend(a, b);
  await befriend(a, c);
  await befriend(b, c);
  // The laptop links the phone (not started yet): from now on its hello carries the agreement key.
  await joinPerson(`${tmp.path}/phone`, (await a.node.call("device.link", {})).text, {
    name: "phone",
  });
  // Bob hears it on a new session with the laptop, and keeps it across his move below.
  await b.stop();
  await using b2 = await startTestNode("bob", { host: "127.47.32.3", dir: b.dir });
  await until(async () => (await heard(b2, a.node.publicKey)) !== null, 15_000, "bob heard it");
  // Bob goes before the phone runs: he never meets it, so nothing of his reaches it but his copies.
  await b2.stop();
  await using phone = await startTestNode("phone", {
    host: "127.47.32.4",
    dir: `${tmp.path}/phone`,
  });
  await phone.waitFor(ownUp, 15_000);
  await until(async () => (await handedTo(phone)).length > 0, 15_000, "the phone holds it");
  const carolUp = (e: NodeEvent) => e.type === "session" && e.state === "up" && e.peer === "carol";
  await phone.waitFor(carolUp, 15_000);
  // The laptop goes too (it could hand the phone a new address of bob's); bob comes back elsewhere.
  await a.stop();
  const from = phone.events.length;
  await using moved = await startTestNode("bob", { host: "127.47.32.13", dir: b.dir });
  // (A copy of bob's record from before his move may open first: the one with his new address counts.)
  const learnt = await phone.waitFor(
    (e) =>
      e.type === "record-learnt" && e.fingerprint === b.node.fingerprint &&
      e.addresses.some((x) => x.startsWith("127.47.32.13:")),
    30_000,
    from,
  );
  assert.ok(learnt.type === "record-learnt");
  assert.equal(learnt.source, "peer");
  assert.equal(learnt.holder, "carol");
  // And the phone meets bob there.
  const bobUp = (e: NodeEvent) => e.type === "session" && e.state === "up" && e.peer === "bob";
  await phone.waitFor(bobUp, 20_000, from);
  assert.ok(moved.node.address);
});

Deno.test("removing the phone moves alice to a new agreement key, which bob is told at once", async () => {
  await using tmp = await tempDir();
  await using a = await startTestNode("alice", { host: "127.47.33.2" });
  await using b = await startTestNode("bob", { host: "127.47.33.3" });
  await befriend(a, b);
  await joinPerson(`${tmp.path}/phone`, (await a.node.call("device.link", {})).text, {
    name: "phone",
  });
  await using phone = await startTestNode("phone", {
    host: "127.47.33.4",
    dir: `${tmp.path}/phone`,
  });
  await phone.waitFor(ownUp, 15_000);
  await until(async () => (await handedTo(phone)).length > 0, 15_000, "the phone holds it");
  const old = publicOf(a.node.publicKey, (await handedTo(phone))[0]!.seed);
  await until(
    async () => {
      const k = await heard(b, a.node.publicKey);
      return k !== null && bytesEqual(k, old);
    },
    15_000,
    "bob holds the phone's key",
  );
  await a.node.call("device.remove", { name: "phone" });
  // Bob drops the key the phone holds and is told the next one, on the session already up.
  await until(
    async () => {
      const k = await heard(b, a.node.publicKey);
      return k !== null && !bytesEqual(k, old);
    },
    15_000,
    "bob holds a new key",
  );
  // A group bob makes now seals alice's key to it: the laptop opens it, the phone cannot.
  const { id } = await b.node.call("group.create", { name: "after" });
  await b.node.call("group.add", { group: "after", members: ["alice"] });
  await b.node.call("send", { chat: "after", text: "new key" });
  await until(has(a, "after", "new key"), 15_000, "the laptop reads it");
  const epoch = b.node.groups.get(id)!.membership.epochs.at(-1)!;
  const sealed = epoch.keys.get(toHex(a.node.publicKey))!;
  assert.equal(await openGroupKey(phone.node.groups.openers(), id, sealed), null);
  assert.equal(phone.node.groups.get(id), undefined, "nor was it handed the group");
});
