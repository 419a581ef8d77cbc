/**
 * A person's devices that are never online together (issue 13 item 4,
 * feature ownmail1): what the laptop writes to bob reaches the phone through
 * the anchor both use, sealed per pair of device keys, and the phone's reply
 * reaches the laptop the same way; meeting directly later duplicates
 * nothing; the anchor's folder holds none of the text.
 */
import assert from "node:assert/strict";
import { befriend, joinAnchor, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import type { NodeEvent } from "../node/mod.ts";
import { tempDir } from "../testing/temp.ts";
import { scanFolder } from "../testing/folder_scan.ts";

const mine = async (n: TestNode, chat: string) =>
  (await n.node.call("read", { chat, markRead: false })).filter((m) => m.type === "msg");

const deposited = (seq: number) => (e: NodeEvent) =>
  e.type === "own-mail" && e.op === "deposited" && e.chat === "bob" && e.seq >= seq;

const ownUp = (e: NodeEvent) => e.type === "own-device" && e.op === "up";

Deno.test("own mail: the laptop and the phone, never online together, converge through the anchor", async () => {
  await using tmp = await tempDir();
  const hive = await startTestNode("hive", { host: "127.9.41.1", passive: true });
  const laptop = await startTestNode("alice", { host: "127.9.41.2" });
  const bob = await startTestNode("bob", { host: "127.9.41.3" });
  const phoneDir = `${tmp.path}/phone`;
  const nodes: TestNode[] = [hive, laptop, bob];
  const sent = ["laptop one", "laptop two", "laptop three"];
  try {
    await joinAnchor(laptop, hive);
    await befriend(laptop, bob);
    await bob.node.call("send", { chat: "alice", text: "bob says hi" });
    await until(async () => (await mine(laptop, "bob")).length === 1, 10_000, "laptop has bob's");
    await bob.stop(); // bob stays away from now on: the phone never meets him
    await joinPerson(phoneDir, (await laptop.node.call("device.link", {})).text, {
      name: "phone",
    });

    // A contact the laptop adds after linking, and writes to: the phone learns both from the anchor.
    await using carol = await startTestNode("carol", { host: "127.9.41.5" });
    await befriend(laptop, carol);
    await laptop.node.call("send", { chat: "carol", text: "welcome carol" });
    await carol.stop();
    // The laptop writes to bob; the anchor takes it for the phone, which is not running.
    for (const text of sent) await laptop.node.call("send", { chat: "bob", text });
    await laptop.waitFor(deposited(3), 15_000);
    const chat = ["bob says hi", ...sent];
    await laptop.node.ownMailIdle();
    const laptopPort = laptop.node.address!.port;
    await laptop.stop();

    // The phone starts after the laptop stopped, and finds the laptop's messages at the anchor.
    const phone = await startTestNode("phone", { host: "127.9.41.4", dir: phoneDir });
    nodes.push(phone);
    await until(async () => (await mine(phone, "bob")).length === 4, 20_000, "phone has them");
    const got = await mine(phone, "bob");
    // The laptop carried bob's message too, which the phone never got from bob.
    assert.deepEqual(got.map((m) => m.body), chat);
    assert.equal(got[0]!.author, "bob");
    for (const m of got.slice(1)) {
      // Named as alice's, signed by the laptop (not by this device: not "mine" here).
      assert.equal(m.author, "alice");
      assert.equal(m.authorFingerprint, laptop.node.fingerprint);
    }
    const taken = await phone.waitFor((e) => e.type === "own-mail" && e.op === "taken");
    assert.ok(taken.type === "own-mail" && taken.op === "taken" && taken.stored === 5);
    assert.ok(!phone.events.some(ownUp), "the phone met the laptop");
    await until(
      async () =>
        phone.node.contacts.get(carol.node.publicKey) !== undefined &&
        (await mine(phone, "carol")).length === 1,
      10_000,
      "carol's chat",
    );
    assert.equal(phone.node.contacts.get(carol.node.publicKey)?.name, "carol");
    assert.deepEqual((await mine(phone, "carol")).map((m) => m.body), ["welcome carol"]);

    // The phone answers and stops; the laptop comes back after it and finds the answer.
    await phone.node.call("send", { chat: "bob", text: "from the phone" });
    await phone.waitFor(deposited(1), 15_000);
    // Only its own: what the laptop filed for it (bob's too), the laptop holds.
    const filed = phone.events.filter((e) => e.type === "own-mail" && e.op === "deposited");
    assert.deepEqual(filed.map((e) => e.type === "own-mail" && e.op === "deposited" && e.entries), [
      1,
    ]);
    await phone.node.ownMailIdle();
    const phonePort = phone.node.address!.port;
    await phone.stop();
    const laptop2 = await startTestNode("alice", {
      host: "127.9.41.2",
      port: laptopPort,
      dir: laptop.dir,
    });
    nodes.push(laptop2);
    await until(
      async () => (await mine(laptop2, "bob")).some((m) => m.body === "from the phone"),
      20_000,
      "laptop has the phone's answer",
    );
    assert.deepEqual((await mine(laptop2, "bob")).map((m) => m.body), [...chat, "from the phone"]);
    assert.ok(!laptop2.events.some(ownUp), "the laptop met the phone");

    // Now they meet: what each has from the anchor also comes directly, and is held once.
    const phone2 = await startTestNode("phone", {
      host: "127.9.41.4",
      port: phonePort,
      dir: phoneDir,
    });
    nodes.push(phone2);
    await phone2.waitFor(ownUp, 20_000);
    await laptop2.node.call("send", { chat: "bob", text: "directly now" });
    const all = [...chat, "from the phone", "directly now"];
    await until(async () => (await mine(phone2, "bob")).length >= all.length, 15_000);
    assert.deepEqual((await mine(phone2, "bob")).map((m) => m.body), all);
    assert.deepEqual((await mine(laptop2, "bob")).map((m) => m.body), all);
  } finally {
    for (const n of nodes) await n.stop();
  }
  // The anchor held only sealed boxes: not a word of the text.
  const enc = new TextEncoder();
  const needles = ["bob says hi", ...sent, "from the phone", "welcome carol", "carol"].map((t) => ({
    what: `"${t}"`,
    bytes: enc.encode(t),
  }));
  assert.deepEqual(await scanFolder(hive.dir, needles), []);
  for (const n of [hive, laptop, bob]) {
    await Deno.remove(n.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("own mail: nothing is filed for a device whose hello did not list ownmail1 (an older one)", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  await using hive = await startTestNode("hive", { host: "127.9.41.6", passive: true });
  await using laptop = await startTestNode("alice", { host: "127.9.41.7" });
  await using bob = await startTestNode("bob", { host: "127.9.41.8" });
  await joinAnchor(laptop, hive);
  await befriend(laptop, bob);
  await bob.stop();
  await joinPerson(phoneDir, (await laptop.node.call("device.link", {})).text, { name: "phone" });
  const phone = await startTestNode("phone", {
    host: "127.9.41.9",
    dir: phoneDir,
    omitFeatures: ["ownmail1"],
  });
  try {
    await laptop.waitFor(ownUp, 15_000);
  } finally {
    await phone.stop();
  }
  await laptop.waitFor((e) => e.type === "own-device" && e.op === "down", 15_000);
  await laptop.node.call("send", { chat: "bob", text: "not for the old phone" });
  // The hand-over that send started has ended, and filed nothing for the phone.
  await laptop.node.ownMailIdle();
  assert.ok(!laptop.events.some((e) => e.type === "own-mail"), "filed for an older device");
});

Deno.test("own mail: two devices online at once but not in step directly hear of each other's mail from the anchor", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  await using hive = await startTestNode("hive", { host: "127.9.41.10", passive: true });
  await using laptop = await startTestNode("alice", { host: "127.9.41.11" });
  await using bob = await startTestNode("bob", { host: "127.9.41.12" });
  await joinAnchor(laptop, hive);
  await befriend(laptop, bob);
  await bob.stop();
  await joinPerson(phoneDir, (await laptop.node.call("device.link", {})).text, { name: "phone" });
  // Without devsync1 in its hello the laptop refuses the phone's session: they never sync directly.
  await using phone = await startTestNode("phone", {
    host: "127.9.41.13",
    dir: phoneDir,
    omitFeatures: ["devsync1"],
  });
  await laptop.waitFor((e) => e.type === "own-device" && e.op === "refused", 15_000);
  await until(
    async () =>
      (await phone.node.call("peers", {})).some((p) =>
        p.kind === "anchor" && p.state === "connected"
      ),
    10_000,
    "the phone is at the anchor",
  );
  await phone.node.ownMailIdle(); // its first look at the anchor found nothing, and watches the tags
  await laptop.node.call("send", { chat: "bob", text: "while you are up" });
  // The anchor tells the phone (mbox.notify), which fetches at once.
  await until(
    async () => (await mine(phone, "bob")).some((m) => m.body === "while you are up"),
    15_000,
    "the phone has it from the anchor",
  );
  await phone.waitFor((e) => e.type === "own-mail" && e.op === "taken" && e.stored === 1);
});

Deno.test("own mail: what a device took directly is not filed for it again at the anchor", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  await using hive = await startTestNode("hive", { host: "127.9.41.14", passive: true });
  await using laptop = await startTestNode("alice", { host: "127.9.41.15" });
  await using bob = await startTestNode("bob", { host: "127.9.41.16" });
  await joinAnchor(laptop, hive);
  await befriend(laptop, bob);
  await bob.stop();
  await joinPerson(phoneDir, (await laptop.node.call("device.link", {})).text, { name: "phone" });
  const phone = await startTestNode("phone", { host: "127.9.41.17", dir: phoneDir });
  try {
    await laptop.waitFor(ownUp, 15_000);
    for (const text of ["one", "two"]) await laptop.node.call("send", { chat: "bob", text });
    await until(async () => (await mine(phone, "bob")).length === 2, 10_000, "phone in step");
  } finally {
    await phone.stop();
  }
  await laptop.waitFor((e) => e.type === "own-device" && e.op === "down", 15_000);
  await laptop.node.call("send", { chat: "bob", text: "three" });
  const d = await laptop.waitFor(deposited(3), 15_000);
  // Only "three": the phone said on its session that it holds one and two.
  assert.ok(d.type === "own-mail" && d.op === "deposited" && d.entries === 1);
});
