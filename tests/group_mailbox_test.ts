/**
 * The anchor mailbox: members who are never online at the same time still
 * converge through a passive anchor, which holds only sealed boxes.
 */
import assert from "node:assert/strict";
import { base64 } from "@scure/base";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { decodeEntry, toHex } from "../node/log/mod.ts";
import { epochMailboxSecret, mailboxKeys, openBox } from "../node/mailbox/mod.ts";
import { decodeB64, RpcSession } from "../node/protocol/mod.ts";
import { dialSsh } from "../node/transport/mod.ts";

async function texts(t: TestNode, chat: string): Promise<string[]> {
  const all = await t.node.call("read", { chat, markRead: false });
  return all.filter((m) => m.type === "msg").map((m) => m.body);
}

async function boxes(anchor: TestNode): Promise<number> {
  return (await anchor.node.call("status", {})).mailbox?.boxes ?? 0;
}

/** Every byte under `dir` (the KV file and its journal). */
async function folderBytes(dir: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) out.push(await Deno.readFile(`${dir}/${e.name}`));
  }
  return out;
}

function contains(hay: Uint8Array, needle: string): boolean {
  const n = new TextEncoder().encode(needle);
  outer: for (let i = 0; i + n.length <= hay.length; i++) {
    for (let j = 0; j < n.length; j++) if (hay[i + j] !== n[j]) continue outer;
    return true;
  }
  return false;
}

/** A founds a group with B while both are online; both know the anchor. */
async function setUp(anchor: TestNode, a: TestNode, b: TestNode): Promise<string> {
  await befriend(anchor, a);
  await befriend(anchor, b);
  await befriend(a, b);
  const g = await a.node.call("group.create", { name: "climbers" });
  await a.node.call("group.add", { group: "climbers", members: [b.node.name] });
  await until(
    async () => (await b.node.call("chats", {})).some((c) => c.name === "climbers"),
    15_000,
    "bob joins",
  );
  return g.id;
}

Deno.test("group mailbox: two members never online together converge through the anchor", async () => {
  await using anchor = await startTestNode("hive", { host: "127.0.0.20", passive: true });
  await using a = await startTestNode("alice", { host: "127.0.0.21" });
  const b = await startTestNode("bob", { host: "127.0.0.22" });
  let b2: TestNode | undefined;
  let a2: TestNode | undefined;
  try {
    const groupId = await setUp(anchor, a, b);
    await b.stop();

    // Alice alone with the anchor: her messages go into its mailbox.
    const secret = "rope at 6? bring the red one";
    await a.node.call("send", { chat: "climbers", text: secret });
    await a.node.call("send", { chat: "climbers", text: "second" });
    await a.node.mailboxIdle();
    const held = (await a.node.read("climbers")).length;
    assert.ok(await boxes(anchor) >= held, "the anchor holds alice's entries");
    await a.stop();

    // Bob comes back while alice is away: he finds her messages at the anchor.
    b2 = await startTestNode("bob", { host: "127.0.0.22", dir: b.dir });
    await until(
      async () => (await texts(b2!, "climbers")).includes("second"),
      20_000,
      "bob reads alice's messages from the mailbox",
    );
    assert.deepEqual(await texts(b2, "climbers"), [secret, "second"]);
    // The catch-up was told: alice's two messages (at least) taken in from hive's boxes.
    await b2.waitFor((e) =>
      e.type === "mailbox" && e.op === "taken" && e.anchor === "hive" && e.group === "climbers" &&
      e.entries >= 2
    );

    // And back: bob answers, leaves; alice returns and reads him.
    await b2.node.call("send", { chat: "climbers", text: "yes, 6" });
    await b2.node.mailboxIdle();
    const bHeld = (await b2.node.read("climbers")).length;
    assert.ok(await boxes(anchor) >= bHeld, "the anchor holds bob's answer");
    await b2.stop();
    a2 = await startTestNode("alice", { host: "127.0.0.21", dir: a.dir });
    await until(
      async () => (await texts(a2!, "climbers")).includes("yes, 6"),
      20_000,
      "alice reads bob's answer",
    );
    assert.deepEqual(await texts(a2, "climbers"), [secret, "second", "yes, 6"]);
    const status = await anchor.node.call("status", {});
    assert.ok(status.mailbox!.boxes >= bHeld);

    // The anchor's data folder holds no plaintext, no group name, no group id.
    await anchor.stop();
    const files = await folderBytes(anchor.dir);
    for (const needle of [secret, "yes, 6", "climbers", groupId]) {
      assert.ok(!files.some((f) => contains(f, needle)), `the anchor's folder contains ${needle}`);
    }
  } finally {
    await b.stop();
    await b2?.stop();
    await a2?.stop();
  }
});

Deno.test("group mailbox: a full quota is refused with a reason; expired boxes are not served", async () => {
  let clock = Date.now();
  await using anchor = await startTestNode("hive", {
    host: "127.0.0.23",
    passive: true,
    now: () => clock,
    mailbox: { perUploaderBoxes: 3, ttlMs: 3_600_000 },
  });
  await using a = await startTestNode("alice", { host: "127.0.0.24" });
  const b = await startTestNode("bob", { host: "127.0.0.25" });
  let b2: TestNode | undefined;
  try {
    await setUp(anchor, a, b);
    await b.stop();
    for (const t of ["one", "two", "three"]) {
      await a.node.call("send", { chat: "climbers", text: t });
    }
    // Alice's log holds more than three entries: the anchor takes three and says why not
    // more (her quota), and she hears of it.
    await anchor.waitFor(
      (e) =>
        e.type === "anchor-mailbox" && e.op === "refused" && e.code === "quota" &&
        // The anchor names a member by a tag, not its name (contacts/member_ids.ts).
        e.peer === anchor.node.contacts.get(a.node.publicKey)?.name,
      15_000,
    );
    await a.waitFor(
      (e) =>
        e.type === "mailbox" && e.op === "refused" && e.anchor === "hive" &&
        e.group === "climbers",
      15_000,
    );
    // Bob's pointer for alice aside, the anchor holds less than alice's log.
    assert.ok(await boxes(anchor) < (await a.node.read("climbers")).length);
    await a.stop();

    // Two hours later the boxes are past their age: bob finds nothing there.
    clock += 2 * 3_600_000;
    b2 = await startTestNode("bob", { host: "127.0.0.25", dir: b.dir });
    await until(
      async () =>
        (await b2!.node.call("peers", {})).some((p) =>
          p.kind === "anchor" && p.state === "connected"
        ),
      15_000,
      "bob reaches the anchor",
    );
    // His visit of the group at the anchor ends having stored nothing.
    const visit = await b2.waitFor(
      (e) =>
        e.type === "mailbox" && e.op === "visited" && e.anchor === "hive" &&
        e.group === "climbers",
      15_000,
    );
    assert.ok(visit.type === "mailbox" && visit.op === "visited" && visit.stored === 0);
    assert.deepEqual(await texts(b2, "climbers"), []);
  } finally {
    await b.stop();
    await b2?.stop();
  }
});

Deno.test("group mailbox: someone added while offline learns of the group through the anchor", async () => {
  await using anchor = await startTestNode("hive", { host: "127.0.0.26", passive: true });
  await using a = await startTestNode("alice", { host: "127.0.0.27" });
  const b = await startTestNode("bob", { host: "127.0.0.28" });
  let b2: TestNode | undefined;
  try {
    await befriend(anchor, a);
    await befriend(anchor, b);
    await befriend(a, b);
    await b.stop();
    // Bob is away when alice founds the group and adds him; they are never online together again.
    await a.node.call("group.create", { name: "climbers" });
    await a.node.call("group.add", { group: "climbers", members: ["bob"] });
    await a.node.call("send", { chat: "climbers", text: "you are in, bob" });
    await a.node.mailboxIdle();
    const held = (await a.node.read("climbers")).length;
    // Her entries (the add also under the epoch before it) and one pointer for bob.
    assert.equal(await boxes(anchor), held + 2);
    await a.stop();
    b2 = await startTestNode("bob", { host: "127.0.0.28", dir: b.dir });
    await until(
      async () => (await b2!.node.call("chats", {})).some((c) => c.name === "climbers"),
      20_000,
      "bob finds the group",
    );
    await until(
      async () => (await texts(b2!, "climbers")).includes("you are in, bob"),
      20_000,
      "bob reads alice's message",
    );
    await b2.waitFor((e) =>
      e.type === "group" && e.op === "joined" && e.group === "climbers" && e.via === "mailbox" &&
      e.from === "hive"
    );
    const members = await b2.node.call("group.members", { group: "climbers" });
    assert.deepEqual(members.map((m) => m.name), ["alice", "bob"]);
  } finally {
    await b.stop();
    await b2?.stop();
  }
});

Deno.test("group mailbox: members connected to each other do not upload each other's entries again", async () => {
  await using anchor = await startTestNode("hive", { host: "127.0.0.29", passive: true });
  await using a = await startTestNode("alice", { host: "127.0.0.30" });
  await using b = await startTestNode("bob", { host: "127.0.0.31" });
  await setUp(anchor, a, b);
  for (let i = 0; i < 30; i++) await a.node.call("send", { chat: "climbers", text: `m${i}` });
  await until(
    async () => (await texts(b, "climbers")).includes("m29"),
    15_000,
    "bob has them all",
  );
  // Bob passes alice's entries on after a moment; by then he can see the anchor holds them.
  // The hand-over is due from the moment he stored them (before they are shown), and
  // mailboxIdle waits for it.
  await b.waitFor((e) => e.type === "message" && e.message.body === "m29");
  await a.node.mailboxIdle();
  await b.node.mailboxIdle();
  const mail = (await anchor.node.call("status", {})).mailbox!;
  assert.ok(mail.boxes >= (await a.node.read("climbers")).length);
  assert.ok(mail.duplicates < 10, `the anchor took ${mail.duplicates} boxes it held already`);
});

/** Every entry filed under `secrets` at the anchor, fetched over one session of our own as `as`. */
async function fetchAs(as: TestNode, anchor: TestNode, secrets: Uint8Array[]) {
  const client = await dialSsh({
    keyPair: as.node.profile.keyPair,
    to: anchor.node.address!,
    expectedKey: anchor.node.publicKey,
    expectedName: anchor.node.name,
    localAddress: as.node.address!.host,
  });
  const rpc = new RpcSession(await client.openRoj(), {
    hello: { features: ["sync1"], name: as.node.name },
  });
  try {
    await rpc.ready;
    const out: Array<{ author: string; seq: number; type: string }> = [];
    for (const secret of secrets) {
      const mk = mailboxKeys(secret);
      for (let after = 0, more = true; more;) {
        const res = await rpc.request("mbox.get", { tag: mk.tag, after });
        for (const item of res.items) {
          after = Math.max(after, item.n);
          const raw = openBox(mk, decodeB64(item.b));
          assert.ok(raw, "a box under the tag opens with its keys");
          const e = decodeEntry(raw.signed);
          out.push({ author: toHex(e.author), seq: e.seq, type: e.type });
        }
        more = res.more && res.items.length > 0;
      }
    }
    return out;
  } finally {
    rpc.close();
    client.close();
  }
}

Deno.test("group mailbox: tags rotate with the epoch; a removed member finds nothing newer, one away across the change gets all", async () => {
  await using anchor = await startTestNode("hive", { host: "127.0.0.32", passive: true });
  await using a = await startTestNode("alice", { host: "127.0.0.33" });
  const b = await startTestNode("bob", { host: "127.0.0.34" });
  await using c = await startTestNode("carol", { host: "127.0.0.35" });
  let b2: TestNode | undefined;
  try {
    for (const t of [a, b, c]) await befriend(anchor, t);
    await befriend(a, b);
    await befriend(a, c);
    const { id } = await a.node.call("group.create", { name: "climbers" });
    await a.node.call("group.add", { group: "climbers", members: ["bob", "carol"] });
    await a.node.call("send", { chat: "climbers", text: "before" });
    for (const t of [b, c]) {
      await until(
        async () => (await texts(t, "climbers").catch((): string[] => [])).includes("before"),
        15_000,
        "both read",
      );
    }
    await a.node.mailboxIdle();
    // Everything carol can derive: the secret of every epoch sealed to her.
    const m = c.node.groups.get(id)!.membership;
    const carolSecrets: Uint8Array[] = [];
    for (const ep of m.epochs) {
      const key = await c.node.groups.epochKey(id, ep.id);
      if (key) carolSecrets.push(epochMailboxSecret(id, ep.id, key));
    }
    assert.ok(carolSecrets.length >= 1);
    // And the derivation from before tags rotated, from the group's create nonce.
    const create = (await c.node.log.read(id)).find((e) => e.type === "group.create")!;
    const nonce = base64.decode((JSON.parse(create.body) as { nonce: string }).nonce);
    const v1 = hkdf(
      sha256,
      nonce,
      new TextEncoder().encode("roj-mailbox-v1"),
      new TextEncoder().encode(id),
      32,
    );
    carolSecrets.push(v1);
    await b.stop();
    await c.stop();

    // Carol is removed, alice writes on and leaves; bob was away all along.
    await a.node.call("group.remove", { group: "climbers", member: "carol" });
    await a.node.call("send", { chat: "climbers", text: "after one" });
    await a.node.call("send", { chat: "climbers", text: "after two" });
    await a.node.mailboxIdle();
    const log = await a.node.log.read(id);
    const removal = log.find((e) => e.type === "group.remove")!;
    await a.stop();

    // Carol asks the anchor, with every tag she can derive, over a real session:
    // she finds her removal (filed under the epoch she knows, so members who
    // missed it learn of it) and nothing written after it.
    const seen = await fetchAs(c, anchor, carolSecrets);
    assert.ok(seen.some((e) => e.type === "group.remove"), "carol sees the entry removing her");
    const later = log.filter((e) => e.lamport > removal.lamport && e.type !== "group.remove").map((
      e,
    ) => `${toHex(e.author)}/${e.seq}`);
    assert.ok(later.length >= 2);
    const leaked = seen.filter((e) => later.includes(`${e.author}/${e.seq}`));
    assert.deepEqual(leaked, [], "no box written after carol's removal is under her tags");

    // Bob comes back while alice is away: from the tag he knows he follows the
    // change to the new epoch's and reads everything.
    b2 = await startTestNode("bob", { host: "127.0.0.34", dir: b.dir });
    await until(
      async () => (await texts(b2!, "climbers")).includes("after two"),
      20_000,
      "bob reads what alice wrote after the change",
    );
    assert.deepEqual(await texts(b2, "climbers"), ["before", "after one", "after two"]);
    const members = await b2.node.call("group.members", { group: "climbers" });
    assert.deepEqual(members.map((x) => x.name).sort(), ["alice", "bob"]);
  } finally {
    await b.stop();
    await b2?.stop();
  }
});
