/**
 * A person's devices in one chat (issue 13 items 4 and 5, the chat core), over
 * real SSH: alice on a laptop (the person key) and a phone (a certified device
 * key), and bob. Bob keeps a session with each of alice's devices at once and
 * pushes what he writes to both; the laptop and the phone sync their chats
 * with each other directly.
 */
import assert from "node:assert/strict";
import { befriend, joinAnchor, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import type { NodeEvent } from "../node/mod.ts";
import { tempDir } from "../testing/temp.ts";
import { certifyDevice } from "../node/devices/mod.ts";
import { createSigner, fingerprint, generateKeyPair } from "../node/identity/mod.ts";
import { encodeB64, RpcSession } from "../node/protocol/mod.ts";
import { dialSsh, parseEndpoint } from "../node/transport/mod.ts";
import { toHex } from "../node/log/mod.ts";

type SessionEvent = NodeEvent & { type: "session" };

const sessionUp = (peer: string, device?: string) => (e: NodeEvent) =>
  e.type === "session" && e.state === "up" && e.peer === peer && e.device === device;

/** Links a new device named "phone" of `laptop`'s person, in `dir`. */
const linkPhone = async (laptop: TestNode, dir: string) =>
  joinPerson(dir, (await laptop.node.call("device.link", {})).text, { name: "phone" });

/** Stops these nodes (again, if they were) and removes their data folders. */
async function stopAndRemove(...nodes: TestNode[]): Promise<void> {
  for (const n of nodes) await n.stop();
  for (const n of nodes) await Deno.remove(n.dir, { recursive: true }).catch(() => {});
}

const bodies = async (n: TestNode, chat: string) =>
  (await n.node.call("read", { chat })).map((m) => m.body);

Deno.test("bob keeps a session with the laptop and one with the phone; his message reaches both", async () => {
  await using tmp = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(a, b);
  const joined = await linkPhone(a, `${tmp.path}/phone`);
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
    joined = await linkPhone(a, phoneDir);
  } finally {
    await b1.stop();
  }
  const phone = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir });
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
  // The phone goes; bob comes back and gets both devices' messages from the laptop: he never
  // met the phone, and takes its entry by the certificate its signature carries.
  await phone.stop();
  await using b = await startTestNode("bob", { host: "127.0.0.3", dir: b1.dir });
  await until(
    async () => {
      const got = await bodies(b, "alice");
      return got.includes("phone to bob") && got.includes("laptop again");
    },
    15_000,
    "bob has both",
  );
  const atBob = (await b.node.call("read", { chat: "alice" })).find((m) =>
    m.body === "phone to bob"
  );
  assert.equal(atBob?.author, "alice");
  assert.equal(atBob?.authorFingerprint, joined.fingerprint);
  assert.ok(
    !b.events.some((e) => e.type === "device" && e.op === "accepted"),
    "no session with the phone",
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
      await linkPhone(a1, phoneDir);
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
    await stopAndRemove(a1, b1);
  }
});

Deno.test("the laptop refuses a 'device of alice' whose certificate another key signed; a copied phone folder is a twin at bob and at the laptop", async () => {
  await using tmp = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(a, b);
  // A forged device: its certificate is mallory's, not alice's.
  const impostor = await generateKeyPair("impostor");
  const mallory = await createSigner(await generateKeyPair("mallory"));
  const forged = await certifyDevice(mallory, {
    deviceKey: impostor.publicKey,
    name: "phone",
    validFrom: Date.now() - 60_000,
    validUntil: Date.now() + 3_600_000,
    serial: 1n,
    nonce: new Uint8Array(32),
  });
  const client = await dialSsh({
    keyPair: impostor,
    to: parseEndpoint((await a.node.call("status", {})).listen[0]!),
    expectedKey: a.node.publicKey,
    expectedName: "alice",
    username: `dev-${toHex(a.node.publicKey)}`,
  });
  try {
    const rpc = new RpcSession(await client.openRoj(), {
      hello: { features: ["sync1", "devsync1"], name: "alice", cert: encodeB64(forged.blob) },
    });
    const asked = rpc.request("sync.heads", { chat: "x" }).then(() => "served", () => "refused");
    const refused = await a.waitFor((e) => e.type === "own-device" && e.op === "refused") as
      & NodeEvent
      & { type: "own-device" };
    assert.equal(refused.fingerprint, fingerprint(impostor.publicKey));
    assert.match(refused.reason!, /certificate/);
    assert.equal(await asked, "refused");
    assert.ok(!a.events.some(ownUp));
  } finally {
    client.close();
  }
  // Two nodes on one device key (a copied folder) are still twins to bob; the laptop beside
  // either is not.
  const phoneDir = `${tmp.path}/phone`;
  await linkPhone(a, phoneDir);
  await using phone = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir });
  await b.waitFor((e) => e.type === "device" && e.op === "accepted", 15_000);
  await phone.waitFor((e) => e.type === "session" && e.state === "up" && e.peer === "bob");
  assert.ok(!b.events.some((e) => e.type === "identity"), "laptop and phone: no twin");
  await Deno.mkdir(`${tmp.path}/copy`);
  await new Deno.Command("cp", { args: ["-a", phoneDir, `${tmp.path}/copy/phone`] }).output();
  await using copy = await startTestNode("phone", {
    host: "127.0.0.5",
    dir: `${tmp.path}/copy/phone`,
  });
  await copy.node.call("connect", { address: (await b.node.call("status", {})).listen[0]! })
    .catch(() => {});
  const twin = await b.waitFor((e) => e.type === "identity" && e.op === "twin-sessions", 15_000);
  assert.equal(
    (twin as NodeEvent & { type: "identity"; fingerprint: string }).fingerprint,
    a.node.fingerprint,
  );
  // And to the laptop: both dial it as the phone; the session up stays, the other is refused.
  await a.waitFor(
    (e) => e.type === "own-device" && e.op === "refused" && /another node/.test(e.reason ?? ""),
    20_000,
  );
});

Deno.test("bob dials alice's phone himself, at the address record the phone handed him", async () => {
  await using tmp = await tempDir();
  const a = await startTestNode("alice", { host: "127.0.0.2" });
  const b1 = await startTestNode("bob", { host: "127.0.0.3" });
  const phoneDir = `${tmp.path}/phone`;
  try {
    await befriend(a, b1);
    const joined = await linkPhone(a, phoneDir);
    await using phone = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir });
    // The phone hands bob its own record (signed by its key) on its session; bob keeps it.
    await phone.waitFor((e) => e.type === "records-handed" && e.peer === "bob" && e.ok, 15_000);
    // Bob restarts on a new port: the phone cannot find him, but he dials it (the laptop is
    // gone, so only the phone's own session can carry bob's message to it).
    await b1.stop();
    await a.stop();
    await using b = await startTestNode("bob", { host: "127.0.0.3", dir: b1.dir });
    const up = await b.waitFor(sessionUp("alice", joined.fingerprint), 20_000) as SessionEvent;
    assert.equal(up.state === "up" && up.direction, "out", "bob dialled the phone");
    await b.node.call("send", { chat: "alice", text: "found you" });
    await until(async () => (await bodies(phone, "bob")).includes("found you"), 10_000);
    // The phone's address is the phone's: not one to dial alice's own key at.
    const alice = (await b.node.call("contacts", {})).find((c) => c.name === "alice")!;
    assert.ok(
      !alice.addresses.includes(up.state === "up" ? up.remote : ""),
      alice.addresses.join(),
    );
  } finally {
    await stopAndRemove(a, b1);
  }
});

Deno.test("alice's phone moves while bob is away: bob finds its new address in the sealed copies the anchor holds", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  await using anchor = await startTestNode("anchor", { host: "127.0.0.5", passive: true });
  const a = await startTestNode("alice", { host: "127.0.0.2" });
  const b1 = await startTestNode("bob", { host: "127.0.0.3" });
  try {
    await joinAnchor(a, anchor);
    await joinAnchor(b1, anchor);
    await befriend(a, b1);
    const joined = await linkPhone(a, phoneDir);
    await a.stop(); // from here on, only the phone's own session can carry bob's message to it
    {
      await using phone = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir });
      await phone.waitFor((e) => e.type === "records-handed" && e.peer === "bob" && e.ok, 15_000);
    }
    // Bob goes; the phone comes back elsewhere, cannot find him, and leaves its new sealed copies
    // (one for bob, under the tag of the phone's key and his) at the anchor.
    await b1.stop();
    await using phone = await startTestNode("phone", { host: "127.0.0.6", dir: phoneDir });
    await phone.waitFor(
      (e) => e.type === "records-handed" && e.peer === "anchor" && e.ok,
      15_000,
    );
    // Bob comes back: the phone's old address is dead; the anchor's copy names the new one.
    await using b = await startTestNode("bob", { host: "127.0.0.3", dir: b1.dir });
    const up = await b.waitFor(sessionUp("alice", joined.fingerprint), 30_000) as SessionEvent;
    assert.equal(up.state === "up" && up.direction, "out", "bob dialled the phone");
    assert.match(up.state === "up" ? up.remote : "", /^127\.0\.0\.6:/);
    await b.node.call("send", { chat: "alice", text: "found you again" });
    await until(async () => (await bodies(phone, "bob")).includes("found you again"), 10_000);
  } finally {
    await stopAndRemove(a, b1);
  }
});

Deno.test("a removal reaches bob through alice's tablet when the laptop never meets him again", async () => {
  await using tmp = await tempDir();
  const a = await startTestNode("alice", { host: "127.0.0.2" });
  const b1 = await startTestNode("bob", { host: "127.0.0.3" });
  try {
    await befriend(a, b1);
    const phone = await linkPhone(a, `${tmp.path}/phone`);
    await joinPerson(`${tmp.path}/tablet`, (await a.node.call("device.link", {})).text, {
      name: "tablet",
    });
    await b1.stop();
    await using tablet = await startTestNode("tablet", {
      host: "127.0.0.5",
      dir: `${tmp.path}/tablet`,
    });
    await a.waitFor(ownUp, 15_000);
    // The laptop removes the phone and hands the revocation to the tablet, then goes for good.
    await a.node.call("device.remove", { name: "phone" });
    const told = await tablet.waitFor((e) => e.type === "device" && e.op === "revoked", 10_000);
    assert.equal((told as NodeEvent & { type: "device" }).fingerprint, phone.fingerprint);
    await a.stop();
    // Bob comes back and meets only the tablet: it hands him the revocation.
    await using b = await startTestNode("bob", { host: "127.0.0.3", dir: b1.dir });
    await tablet.node.call("connect", { address: (await b.node.call("status", {})).listen[0]! })
      .catch(() => {});
    const revoked = await b.waitFor((e) => e.type === "device" && e.op === "revoked", 15_000);
    assert.equal((revoked as NodeEvent & { type: "device" }).fingerprint, phone.fingerprint);
  } finally {
    await stopAndRemove(a, b1);
  }
});

Deno.test("the laptop, restarted on a new port, dials the phone at the address the phone told it", async () => {
  await using tmp = await tempDir();
  const a1 = await startTestNode("alice", { host: "127.0.0.2" });
  const phoneDir = `${tmp.path}/phone`;
  try {
    await linkPhone(a1, phoneDir);
    await using phone = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir });
    await a1.waitFor(ownUp, 15_000);
    await a1.stop();
    // The phone's dials go to the laptop's old port; the laptop dials the phone.
    await using a = await startTestNode("alice", { host: "127.0.0.2", dir: a1.dir });
    const up = await a.waitFor(ownUp, 20_000) as NodeEvent & { type: "own-device" };
    assert.equal(up.direction, "out");
    await phone.waitFor((e) => ownUp(e) && (e as { direction?: string }).direction === "in");
  } finally {
    await stopAndRemove(a1);
  }
});
