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
  // The phone's reply: at bob, and on the laptop (from the phone or from bob, whichever is first).
  await phone.node.call("send", { chat: "bob", text: "reply from the phone" });
  await until(async () => (await bodies(b, "alice")).includes("reply from the phone"), 10_000);
  await until(async () => (await bodies(a, "bob")).includes("reply from the phone"), 10_000);
});

const ownUp = (e: NodeEvent) => e.type === "own-device" && e.op === "up";

Deno.test("the laptop and the phone sync the chat with bob directly, both ways, while bob is away", async () => {
  await using tmp = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  const b1 = await startTestNode("bob", { host: "127.0.0.3" });
  const phoneDir = `${tmp.path}/phone`;
  let joined: Awaited<ReturnType<typeof joinPerson>>;
  try {
    await befriend(a, b1);
    await a.node.call("send", { chat: "bob", text: "laptop to bob" });
    await b1.node.call("send", { chat: "alice", text: "bob to alice" });
    await until(async () => (await bodies(a, "bob")).length === 2);
    await until(async () => (await bodies(b1, "alice")).length === 2);
    joined = await joinPerson(phoneDir, (await a.node.call("device.link", {})).text, {
      name: "phone",
    });
  } finally {
    await b1.stop();
  }
  await using phone = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir });
  // The phone dials the laptop (the link code's address); each checks the other is alice's.
  const up = await a.waitFor(ownUp, 15_000) as NodeEvent & { type: "own-device" };
  assert.equal(up.fingerprint, joined.fingerprint);
  assert.equal(up.direction, "in");
  await phone.waitFor(ownUp);
  // What the laptop and bob wrote before the phone existed, from the laptop alone (bob is away).
  await until(
    async () => (await bodies(phone, "bob")).length === 2,
    10_000,
    "history on the phone",
  );
  // What the phone writes reaches the laptop, named as alice's, signed by the phone.
  await phone.node.call("send", { chat: "bob", text: "phone to bob" });
  await until(async () => (await bodies(a, "bob")).includes("phone to bob"), 10_000);
  const onLaptop = (await a.node.call("read", { chat: "bob" })).find((m) =>
    m.body === "phone to bob"
  );
  assert.equal(onLaptop?.author, "alice");
  assert.equal(onLaptop?.authorFingerprint, joined.fingerprint);
  // And what the laptop writes reaches the phone.
  await a.node.call("send", { chat: "bob", text: "laptop again" });
  await until(async () => (await bodies(phone, "bob")).includes("laptop again"), 10_000);
  // Bob comes back: he gets both devices' messages.
  await using b = await startTestNode("bob", { host: "127.0.0.3", dir: b1.dir });
  await until(
    async () => {
      const got = await bodies(b, "alice");
      return got.includes("phone to bob") && got.includes("laptop again");
    },
    15_000,
    "bob has both",
  );
});

Deno.test("a removed phone's new entries are refused by the laptop, even when bob, who took them before he heard, hands them on", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  const a1 = await startTestNode("alice", { host: "127.0.0.2" });
  const b1 = await startTestNode("bob", { host: "127.0.0.3" });
  const p1 = await startTestNode("phone", {
    host: "127.0.0.4",
    dir: await (async () => {
      await befriend(a1, b1);
      await joinPerson(phoneDir, (await a1.node.call("device.link", {})).text, { name: "phone" });
      return phoneDir;
    })(),
  });
  try {
    await a1.waitFor(ownUp, 15_000);
    await p1.node.call("send", { chat: "bob", text: "before removal" });
    await until(async () => (await bodies(a1, "bob")).includes("before removal"), 10_000);
    // Bob is away when alice removes the phone on the laptop, which drops it at once.
    await b1.stop();
    const from = a1.events.length;
    await a1.node.call("device.remove", { name: "phone" });
    await a1.waitFor((e) => e.type === "own-device" && e.op === "down", 10_000, from);
    await p1.node.call("send", { chat: "bob", text: "after removal" });
    // The laptop goes; bob comes back and, not knowing yet, takes the phone's entry.
    await a1.stop();
  } finally {
    await a1.stop();
  }
  const b2 = await startTestNode("bob", { host: "127.0.0.3", dir: b1.dir });
  const bobAddress = (await b2.node.call("status", {})).listen[0]!;
  try {
    // (Restarted nodes listen on new ports: each is told where bob is now.)
    await p1.node.call("connect", { address: bobAddress }).catch(() => {});
    await until(async () => (await bodies(b2, "alice")).includes("after removal"), 15_000);
    await p1.stop();
    // The laptop comes back: bob hands it the phone's entries; the one after the removal is refused.
    await using a = await startTestNode("alice", { host: "127.0.0.2", dir: a1.dir });
    await a.node.call("connect", { address: bobAddress }).catch(() => {});
    await a.waitFor((e) => e.type === "session" && e.state === "up" && e.peer === "bob", 15_000);
    // Bob's pushes run one pass after another, the phone's chain in each: once his second
    // message is on the laptop, the pass that carried the phone's entry was answered.
    for (const text of ["later", "later again"]) {
      await b2.node.call("send", { chat: "alice", text });
      await until(async () => (await bodies(a, "bob")).includes(text), 10_000);
    }
    const onLaptop = await bodies(a, "bob");
    assert.ok(onLaptop.includes("before removal"), JSON.stringify(onLaptop));
    assert.ok(!onLaptop.includes("after removal"), JSON.stringify(onLaptop));
  } finally {
    await p1.stop();
    await b2.stop();
    for (const d of [a1.dir, b1.dir]) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
});
