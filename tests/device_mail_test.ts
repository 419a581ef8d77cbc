/**
 * 1:1 mail on a person's linked device (issue 13 item 4, issue 14 item 1,
 * with feature devagree1): alice's phone and bob are never online together,
 * and the laptop (the person key) is stopped once it linked the phone. The
 * phone files its messages for bob at the anchor, sealed with the person's
 * agreement key, in the person's chat with bob; bob takes them as alice's,
 * in order, and his answer, sealed to alice's agreement key, opens on the
 * phone. The anchor's folder holds none of the text.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import type { NodeEvent } from "../node/mod.ts";
import { keys } from "../node/store/mod.ts";
import { tempDir } from "../testing/temp.ts";
import { scanFolder } from "../testing/folder_scan.ts";

const msgs = async (n: TestNode, chat: string) =>
  (await n.node.call("read", { chat, markRead: false }).catch(() => []))
    .filter((m) => m.type === "msg");
const states = async (n: TestNode, chat: string) =>
  (await msgs(n, chat)).filter((m) => m.mine).map((m) => m.state);
const texts = async (n: TestNode, chat: string) => (await msgs(n, chat)).map((m) => m.body);
const ownUp = (e: NodeEvent) => e.type === "own-device" && e.op === "up";
const deposited = (chat: string, seq: number) => (e: NodeEvent) =>
  e.type === "direct-mail" && e.op === "deposited" && e.chat === chat && e.seq >= seq;
/** Whether `n` saw a session with `peer` (the phone's counts as alice's) since it started. */
const met = (n: TestNode, peer: string) =>
  n.events.some((e) => e.type === "session" && e.state === "up" && e.peer === peer);
/** The person agreement key `n` heard for `person`. */
const heard = async (n: TestNode, person: Uint8Array) =>
  (await n.node.profile.store.kv.get<Uint8Array>(keys.personAgreeKey(person))).value;

Deno.test("1:1 mail on a linked device: the phone and bob, never online together, talk through the anchor", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  const hive = await startTestNode("hive", { host: "127.61.23.1", passive: true });
  const laptop = await startTestNode("alice", { host: "127.61.23.2" });
  let bob = await startTestNode("bob", { host: "127.61.23.3" });
  const nodes: TestNode[] = [hive, laptop, bob];
  const sent = ["phone one", "phone two", "phone three"];
  try {
    await befriend(hive, laptop);
    await befriend(hive, bob);
    await befriend(laptop, bob);
    // Linked while bob is in a session with the laptop: he is told alice's agreement key.
    await joinPerson(phoneDir, (await laptop.node.call("device.link", {})).text, {
      name: "phone",
    });
    await until(async () => (await heard(bob, laptop.node.publicKey)) !== null, 15_000, "pagree");
    // Bob comes back once, so the anchor holds his record sealed to alice's agreement key too.
    await bob.stop();
    nodes.push(bob = await startTestNode("bob", { host: "127.61.23.3", dir: bob.dir }));
    await until(
      async () => ((await hive.node.call("status", {})).records ?? 0) >= 3,
      15_000,
      "the anchor holds bob's record for alice's devices",
    );
    await bob.stop();

    // The phone meets the laptop (contacts, the anchor, the agreement key), then the laptop goes.
    let phone = await startTestNode("phone", { host: "127.61.23.4", dir: phoneDir });
    nodes.push(phone);
    await phone.waitFor(ownUp, 15_000);
    await until(
      async () =>
        phone.node.contacts.get(bob.node.publicKey) !== undefined &&
        phone.node.contacts.get(hive.node.publicKey)?.anchor === true &&
        (await phone.node.profile.store.kv.get<unknown[]>(keys.personAgreement())).value
            ?.length === 1,
      15_000,
      "the phone knows bob, the anchor and the agreement key",
    );
    await laptop.stop();

    // The phone writes to bob, who is away: the anchor takes it; then the phone stops.
    for (const text of sent) await phone.node.call("send", { chat: "bob", text });
    await phone.waitFor(deposited("bob", 3), 20_000);
    await phone.node.directMailIdle();
    assert.deepEqual(await states(phone, "bob"), sent.map(() => "at-anchor"));
    await phone.stop();

    // Bob starts after: the phone's messages are alice's, in order.
    nodes.push(bob = await startTestNode("bob", { host: "127.61.23.3", dir: bob.dir }));
    await until(async () => (await texts(bob, "alice")).length === 3, 20_000, "bob has them");
    const got = await msgs(bob, "alice");
    assert.deepEqual(got.map((m) => m.body), sent);
    for (const m of got) {
      assert.equal(m.author, "alice");
      assert.equal(m.authorFingerprint, phone.node.fingerprint);
    }
    assert.ok(!met(bob, "alice"), "bob met alice");

    // Bob answers and stops; the phone comes back and finds it at the anchor.
    await bob.node.call("send", { chat: "alice", text: "bob's answer" });
    await bob.waitFor(deposited("alice", 1), 20_000);
    await bob.node.directMailIdle();
    await bob.stop();
    nodes.push(phone = await startTestNode("phone", { host: "127.61.23.4", dir: phoneDir }));
    await until(
      async () => (await texts(phone, "bob")).includes("bob's answer"),
      20_000,
      "the phone has bob's answer",
    );
    assert.deepEqual(await texts(phone, "bob"), [...sent, "bob's answer"]);
    assert.ok(!met(phone, "bob"), "the phone met bob");
    // Bob's receipt for the phone's chain, left when he took them, reaches the phone alone.
    await until(
      async () => (await states(phone, "bob")).every((s) => s === "delivered"),
      15_000,
      "the phone's messages delivered by bob's receipt",
    );
    assert.ok(!phone.events.some(ownUp), "the phone met the laptop");

    // The laptop, back after the phone stopped, holds all of it (bob's answer under either secret).
    await phone.node.ownMailIdle();
    await phone.stop();
    const laptop2 = await startTestNode("alice", { host: "127.61.23.2", dir: laptop.dir });
    nodes.push(laptop2);
    await until(
      async () => (await texts(laptop2, "bob")).length === sent.length + 1,
      20_000,
      "the laptop has the chat",
    );
    assert.deepEqual(await texts(laptop2, "bob"), [...sent, "bob's answer"]);
  } finally {
    for (const n of nodes) await n.stop();
  }
  // The anchor held only sealed boxes: not a word of the text.
  const needles = [...sent, "bob's answer"].map((t) => ({
    what: `"${t}"`,
    bytes: new TextEncoder().encode(t),
  }));
  assert.deepEqual(await scanFolder(hive.dir, needles), []);
});
