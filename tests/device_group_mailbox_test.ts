/**
 * A device at a group's anchor (issue 13): alice's phone, a certified
 * device, fetches and files group mail at the anchor as her laptop (the
 * person key) does. Bob posts while the phone is away and the laptop is
 * stopped; the phone comes back with only the anchor up and reads him; its
 * answer reaches bob, back later, through the anchor, as alice's.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import type { NodeEvent } from "../node/mod.ts";
import { tempDir } from "../testing/temp.ts";

const ownUp = (e: NodeEvent) => e.type === "own-device" && e.op === "up";
const msgs = async (n: TestNode, chat: string) =>
  (await n.node.call("read", { chat, markRead: false }).catch(() => []))
    .filter((m) => m.type === "msg");
const has = (n: TestNode, chat: string, text: string) => async () =>
  (await msgs(n, chat)).some((m) => m.body === text);

Deno.test("a device takes and leaves group mail at the group's anchor, with no member of the group up", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  const hive = await startTestNode("hive", { passive: true });
  const laptop = await startTestNode("alice");
  let bob = await startTestNode("bob");
  const nodes: TestNode[] = [hive, laptop, bob];
  try {
    await befriend(hive, laptop);
    await befriend(hive, bob);
    await befriend(laptop, bob);
    await joinPerson(phoneDir, (await laptop.node.call("device.link", {})).text, {
      name: "phone",
    });
    let phone = await startTestNode("phone", { dir: phoneDir });
    nodes.push(phone);
    await phone.waitFor(ownUp, 15_000);
    // The laptop makes the group; the phone is handed it, its keys and its entries.
    const { id } = await laptop.node.call("group.create", { name: "climbers" });
    await laptop.node.call("group.add", { group: "climbers", members: ["bob"] });
    await laptop.node.call("send", { chat: "climbers", text: "from the laptop" });
    await until(has(phone, "climbers", "from the laptop"), 20_000, "the group on the phone");
    await until(has(bob, "climbers", "from the laptop"), 20_000, "the group at bob");
    await until(
      () => phone.node.contacts.get(hive.node.publicKey)?.anchor === true,
      15_000,
      "the phone knows the anchor",
    );
    await phone.stop();
    await laptop.stop();

    // Bob posts with neither of alice's nodes up: only the anchor takes it.
    await bob.node.call("send", { chat: "climbers", text: "while you were away" });
    await bob.node.mailboxIdle();
    await bob.stop();

    // The phone comes back with only the anchor up, and reads bob there.
    nodes.push(phone = await startTestNode("phone", { dir: phoneDir }));
    await until(has(phone, "climbers", "while you were away"), 20_000, "bob's post on the phone");
    assert.equal(phone.node.groups.get(id)?.name, "climbers");
    // Its answer goes to the anchor, and bob, back once the phone has gone, reads it as alice's.
    await phone.node.call("send", { chat: "climbers", text: "from the phone" });
    await phone.node.mailboxIdle();
    await phone.stop();
    nodes.push(bob = await startTestNode("bob", { dir: bob.dir }));
    await until(has(bob, "climbers", "from the phone"), 20_000, "the phone's answer at bob");
    const atBob = (await msgs(bob, "climbers")).find((m) => m.body === "from the phone")!;
    assert.equal(atBob.author, "alice");
    assert.deepEqual(
      (await msgs(bob, "climbers")).map((m) => m.body),
      ["from the laptop", "while you were away", "from the phone"],
    );
  } finally {
    for (const n of nodes.reverse()) await n.stop();
  }
});

Deno.test("a member who never met the device takes its group mail from the anchor by the certificate it carries", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  const hive = await startTestNode("hive", { passive: true });
  const laptop = await startTestNode("alice");
  let bob = await startTestNode("bob");
  const nodes: TestNode[] = [hive, laptop, bob];
  try {
    await befriend(hive, laptop);
    await befriend(hive, bob);
    await befriend(laptop, bob);
    await laptop.node.call("group.create", { name: "climbers" });
    await laptop.node.call("group.add", { group: "climbers", members: ["bob"] });
    await laptop.node.call("send", { chat: "climbers", text: "from the laptop" });
    await until(has(bob, "climbers", "from the laptop"), 20_000, "the group at bob");
    // Bob goes before the phone is linked: no session, no device list tells him of it.
    await bob.stop();
    await joinPerson(phoneDir, (await laptop.node.call("device.link", {})).text, {
      name: "phone",
    });
    const phone = await startTestNode("phone", { dir: phoneDir });
    nodes.push(phone);
    await phone.waitFor(ownUp, 15_000);
    await until(has(phone, "climbers", "from the laptop"), 20_000, "the group on the phone");
    await until(
      () => phone.node.contacts.get(hive.node.publicKey)?.anchor === true,
      15_000,
      "the phone knows the anchor",
    );
    await laptop.stop();
    await phone.node.call("send", { chat: "climbers", text: "from the phone" });
    await phone.node.mailboxIdle();
    await phone.stop();
    nodes.push(bob = await startTestNode("bob", { dir: bob.dir }));
    await until(has(bob, "climbers", "from the phone"), 20_000, "the phone's post at bob");
    const atBob = (await msgs(bob, "climbers")).find((m) => m.body === "from the phone")!;
    assert.equal(atBob.author, "alice");
  } finally {
    for (const n of nodes.reverse()) await n.stop();
  }
});
