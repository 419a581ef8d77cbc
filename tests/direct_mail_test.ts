/**
 * 1:1 mail: two contacts who are never online together still talk through
 * a passive anchor both use, which holds only sealed boxes under tags that
 * name neither of them, or through a mutual friend who carries them.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { directChatId, toHex } from "../node/log/mod.ts";
import { publicKeyLine } from "../node/identity/mod.ts";
import { encodeB64 } from "../node/protocol/mod.ts";
import type { StatusView } from "../node/api/mod.ts";
import { callNode, spawnNode } from "../testing/processes.ts";
import { tempDir } from "../testing/temp.ts";
import { freePort } from "../testing/cli_run.ts";

async function texts(t: TestNode, chat: string): Promise<string[]> {
  const all = await t.node.call("read", { chat, markRead: false });
  return all.filter((m) => m.type === "msg").map((m) => m.body);
}

async function states(t: TestNode, chat: string): Promise<string[]> {
  const all = await t.node.call("read", { chat, markRead: false });
  return all.filter((m) => m.mine).map((m) => m.state);
}

/** Everyone knows the anchor and each other; the anchor holds each one's address record for the other. */
async function setUp(anchor: TestNode, a: TestNode, b: TestNode): Promise<void> {
  await befriend(anchor, a);
  await befriend(anchor, b);
  await befriend(a, b);
  await until(
    async () => ((await anchor.node.call("status", {})).records ?? 0) >= 2,
    10_000,
    "the anchor holds both sealed records",
  );
}

/** Whether `t` saw a session with `peer` come up since it started. */
function sawSession(t: TestNode, peer: string): boolean {
  return t.events.some((e) => e.type === "session" && e.state === "up" && e.peer === peer);
}

Deno.test("1:1 mail: alice writes and leaves, bob comes later and reads every message in order; never both online", async () => {
  await using anchor = await startTestNode("hive", { host: "127.0.0.101", passive: true });
  const a = await startTestNode("alice", { host: "127.0.0.102" });
  const b = await startTestNode("bob", { host: "127.0.0.103" });
  let a2: TestNode | undefined;
  let b2: TestNode | undefined;
  try {
    await setUp(anchor, a, b);
    await b.stop();

    const sent = ["are you there?", "the key is under the mat", "call me", "4", "5"];
    for (const text of sent) await a.node.call("send", { chat: "bob", text });
    // The anchor holds all five for bob: "at-anchor", not "delivered".
    await a.waitFor(
      (e) =>
        e.type === "direct-mail" && e.op === "deposited" && e.anchor === "hive" &&
        e.chat === "bob" && e.seq >= 5,
      15_000,
    );
    await a.node.directMailIdle();
    assert.deepEqual(await states(a, "bob"), sent.map(() => "at-anchor"));
    await a.stop();

    // Bob comes back after alice has gone: he finds all five at the anchor, in order.
    b2 = await startTestNode("bob", { host: "127.0.0.103", dir: b.dir });
    await until(
      async () => (await texts(b2!, "alice")).length === sent.length,
      20_000,
      "bob reads alice's messages from the anchor",
    );
    assert.deepEqual(await texts(b2, "alice"), sent);
    const taken = await b2.waitFor((e) =>
      e.type === "direct-mail" && e.op === "taken" && e.anchor === "hive" && e.chat === "alice"
    );
    assert.ok(taken.type === "direct-mail" && taken.op === "taken" && taken.stored === 5);
    // At no moment were both online: alice stopped before bob started, and bob never met her.
    assert.ok(!sawSession(b2, "alice"), "bob had a session with alice");

    // Bob answers and leaves; alice comes back after him and reads the answer.
    await b2.node.call("send", { chat: "alice", text: "found it, thanks" });
    await b2.waitFor(
      (e) => e.type === "direct-mail" && e.op === "deposited" && e.chat === "alice" && e.seq >= 1,
      15_000,
    );
    await b2.stop();
    a2 = await startTestNode("alice", { host: "127.0.0.102", dir: a.dir });
    await until(
      async () => (await texts(a2!, "bob")).includes("found it, thanks"),
      20_000,
      "alice reads bob's answer",
    );
    assert.deepEqual(await texts(a2, "bob"), [...sent, "found it, thanks"]);
    assert.ok(!sawSession(a2, "bob"), "alice had a session with bob");
    // Bob's receipt, left at the anchor when he took them, tells her they were delivered.
    await until(
      async () => (await states(a2!, "bob")).every((s) => s === "delivered"),
      15_000,
      "alice's messages delivered by bob's receipt",
    );
  } finally {
    await a.stop();
    await b.stop();
    await a2?.stop();
    await b2?.stop();
  }
});

Deno.test("1:1 mail: the same entries arriving directly as well are taken once, in order; then delivered", async () => {
  await using anchor = await startTestNode("hive", { host: "127.0.0.104", passive: true });
  await using a = await startTestNode("alice", { host: "127.0.0.105" });
  const b = await startTestNode("bob", { host: "127.0.0.106" });
  let b2: TestNode | undefined;
  try {
    await setUp(anchor, a, b);
    await a.node.call("send", { chat: "bob", text: "zero" });
    await until(async () => (await states(a, "bob"))[0] === "delivered", 10_000, "delivered");
    await b.stop();
    for (const text of ["one", "two", "three"]) await a.node.call("send", { chat: "bob", text });
    await a.waitFor((e) => e.type === "direct-mail" && e.op === "deposited" && e.seq >= 4, 15_000);
    assert.deepEqual(await states(a, "bob"), ["delivered", "at-anchor", "at-anchor", "at-anchor"]);

    // Bob comes back while alice is online: her entries reach him directly and from the anchor.
    b2 = await startTestNode("bob", { host: "127.0.0.106", dir: b.dir });
    const taken = await b2.waitFor(
      (e) => e.type === "direct-mail" && e.op === "taken" && e.chat === "alice",
      20_000,
    );
    assert.ok(taken.type === "direct-mail" && taken.op === "taken" && taken.fetched === 3);
    await until(async () => (await texts(b2!, "alice")).length >= 4, 15_000, "bob has them");
    await until(
      async () => (await states(a, "bob")).every((s) => s === "delivered"),
      15_000,
      "alice sees them delivered",
    );
    await b2.node.directMailIdle();
    assert.deepEqual(await texts(b2, "alice"), ["zero", "one", "two", "three"]);
    // Bob answers directly; the order is the same on both sides.
    await b2.node.call("send", { chat: "alice", text: "four" });
    await until(async () => (await texts(a, "bob")).includes("four"), 10_000, "alice has it");
    assert.deepEqual(await texts(a, "bob"), ["zero", "one", "two", "three", "four"]);
    assert.deepEqual(await texts(b2, "alice"), ["zero", "one", "two", "three", "four"]);
  } finally {
    await b.stop();
    await b2?.stop();
  }
});

Deno.test("1:1 mail: entries bob took directly are duplicates when the anchor's copies reach him later", async () => {
  const anchor = await startTestNode("hive", { host: "127.0.0.116", passive: true });
  await using a = await startTestNode("alice", { host: "127.0.0.117" });
  const b = await startTestNode("bob", { host: "127.0.0.118" });
  let anchor2: TestNode | undefined;
  let b2: TestNode | undefined;
  try {
    await setUp(anchor, a, b);
    await b.stop();
    const sent = ["one", "two", "three"];
    for (const text of sent) await a.node.call("send", { chat: "bob", text });
    await a.waitFor((e) => e.type === "direct-mail" && e.op === "deposited" && e.seq >= 3, 15_000);
    const port = anchor.node.address!.port;
    await anchor.stop();

    // The anchor is away when bob comes back: he takes alice's entries from her directly.
    b2 = await startTestNode("bob", { host: "127.0.0.118", dir: b.dir });
    await until(async () => (await texts(b2!, "alice")).length === 3, 15_000, "bob has them");
    await until(
      async () => (await states(a, "bob")).every((s) => s === "delivered"),
      10_000,
      "delivered",
    );
    // Then the anchor's copies reach him too: all three fetched, none new, the chat unchanged.
    anchor2 = await startTestNode("hive", {
      host: "127.0.0.116",
      port,
      dir: anchor.dir,
      passive: true,
    });
    await b2.node.call("connect", { address: `127.0.0.116:${port}` });
    const taken = await b2.waitFor(
      (e) =>
        e.type === "direct-mail" && e.op === "taken" && e.anchor === "hive" && e.chat === "alice",
      15_000,
    );
    assert.ok(taken.type === "direct-mail" && taken.op === "taken");
    assert.equal(taken.fetched, 3);
    assert.equal(taken.stored, 0);
    assert.deepEqual(await texts(b2, "alice"), sent);
  } finally {
    await b.stop();
    await b2?.stop();
    await anchor.stop();
    await anchor2?.stop();
    await Deno.remove(anchor.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("1:1 mail: tags rotate weekly; bob away for weeks still gets every message, in order", async () => {
  let clock = Date.UTC(2026, 11, 3, 12);
  const now = () => clock;
  await using anchor = await startTestNode("hive", { host: "127.0.0.110", passive: true, now });
  const a = await startTestNode("alice", { host: "127.0.0.111", now });
  const b = await startTestNode("bob", { host: "127.0.0.112", now });
  let a2: TestNode | undefined;
  let b2: TestNode | undefined;
  try {
    await setUp(anchor, a, b);
    await b.stop();
    await a.node.call("send", { chat: "bob", text: "week one" });
    await a.waitFor((e) => e.type === "direct-mail" && e.op === "deposited" && e.seq >= 1, 15_000);
    await a.stop();
    // Nine days on, alice writes again: filed under the new week's tag.
    clock += 9 * 86_400_000;
    a2 = await startTestNode("alice", { host: "127.0.0.111", dir: a.dir, now });
    await a2.node.call("send", { chat: "bob", text: "week two" });
    await a2.waitFor((e) => e.type === "direct-mail" && e.op === "deposited" && e.seq >= 2, 15_000);
    await a2.stop();
    // The anchor filed alice's under two tags (bob deletes them once he took them: dmail-ack).
    assert.equal((await uploadedTags(anchor, a)).size, 2, "alice's two messages, two weeks' tags");
    // Bob, back after sixteen days, finds both weeks'.
    clock += 7 * 86_400_000;
    b2 = await startTestNode("bob", { host: "127.0.0.112", dir: b.dir, now });
    await until(
      async () => (await texts(b2!, "alice")).length === 2,
      20_000,
      "bob reads both weeks' messages",
    );
    assert.deepEqual(await texts(b2, "alice"), ["week one", "week two"]);
  } finally {
    await a.stop();
    await b.stop();
    await a2?.stop();
    await b2?.stop();
  }
});

/** The tags under which `anchor` holds boxes that `member` uploaded. */
async function uploadedTags(anchor: TestNode, member: TestNode): Promise<Set<string>> {
  const tags = new Set<string>();
  const up = toHex(anchor.node.contacts.storedId(member.node.publicKey));
  const kv = anchor.node.profile.store.kv;
  for await (const r of kv.list<{ up: string }>({ prefix: ["mbox"] })) {
    if (r.key.length === 3 && r.value.up === up) tags.add(String(r.key[1]));
  }
  return tags;
}

for (const older of [false, true]) {
  Deno.test(`1:1 mail: ${older ? "an anchor without dmail-ack keeps the boxes bob took (they expire)" : "once bob took and committed alice's boxes, the anchor deletes them"}`, async () => {
    const host = older ? "127.0.0.131" : "127.0.0.127";
    await using anchor = await startTestNode("hive", {
      host,
      passive: true,
      ...(older ? { omitFeatures: ["dmail-ack"] } : {}),
    });
    const a = await startTestNode("alice", { host: older ? "127.0.0.132" : "127.0.0.128" });
    const b = await startTestNode("bob", { host: older ? "127.0.0.133" : "127.0.0.129" });
    let b2: TestNode | undefined;
    try {
      await setUp(anchor, a, b);
      await b.stop();
      for (const text of ["one", "two"]) await a.node.call("send", { chat: "bob", text });
      await a.waitFor(
        (e) => e.type === "direct-mail" && e.op === "deposited" && e.seq >= 2,
        15_000,
      );
      await a.stop();
      assert.equal((await uploadedTags(anchor, a)).size, 1, "the anchor holds alice's boxes");
      b2 = await startTestNode("bob", { host: older ? "127.0.0.133" : "127.0.0.129", dir: b.dir });
      await until(async () => (await texts(b2!, "alice")).length === 2, 20_000, "bob reads both");
      await b2.node.directMailIdle();
      // Bob's visit left a receipt for alice; of alice's boxes, none (or, older: both) are left.
      assert.equal((await uploadedTags(anchor, a)).size, older ? 1 : 0);
      const boxes = (await anchor.node.call("status", {})).mailbox?.boxes;
      assert.equal(boxes, older ? 3 : 1);
    } finally {
      await a.stop();
      await b.stop();
      await b2?.stop();
    }
  });
}

Deno.test("1:1 mail: a full quota is refused with a reason; what was refused stays stored, not at-anchor", async () => {
  await using anchor = await startTestNode("hive", {
    host: "127.0.0.113",
    passive: true,
    mailbox: { perUploaderBoxes: 2 },
  });
  await using a = await startTestNode("alice", { host: "127.0.0.114" });
  const b = await startTestNode("bob", { host: "127.0.0.115" });
  try {
    await setUp(anchor, a, b);
    await b.stop();
    for (const text of ["one", "two", "three"]) await a.node.call("send", { chat: "bob", text });
    await a.waitFor(
      (e) =>
        e.type === "direct-mail" && e.op === "refused" && e.anchor === "hive" && e.chat === "bob",
      15_000,
    );
    await anchor.waitFor((e) =>
      e.type === "anchor-mailbox" && e.op === "refused" && e.code === "quota" &&
      e.peer === anchor.node.contacts.get(a.node.publicKey)?.name
    );
    await a.node.directMailIdle();
    assert.deepEqual(await states(a, "bob"), ["at-anchor", "at-anchor", "stored"]);
  } finally {
    await b.stop();
  }
});

// Carried by a mutual friend: alice and bob are never online together and share no anchor,
// but carol is online when each of them is. `--no-carry` (carry: false) holds nobody's mail.

/** Three contacts of each other; carol holds bob's sealed address record for alice. */
async function setUpFriends(a: TestNode, b: TestNode, c: TestNode): Promise<void> {
  await befriend(a, b);
  await befriend(a, c);
  await befriend(b, c);
  await b.waitFor((e) => e.type === "records-handed" && e.peer === "carol" && e.ok, 10_000);
}

Deno.test("1:1 mail: a mutual friend online with each in turn carries alice's messages to bob", async () => {
  await using c = await startTestNode("carol", { host: "127.0.0.121" });
  const a = await startTestNode("alice", { host: "127.0.0.122" });
  const b = await startTestNode("bob", { host: "127.0.0.123" });
  let b2: TestNode | undefined;
  try {
    await setUpFriends(a, b, c);
    await b.stop();
    const sent = ["one", "two", "three"];
    for (const text of sent) await a.node.call("send", { chat: "bob", text });
    await a.waitFor((e) =>
      e.type === "direct-mail" && e.op === "deposited" && e.by === "friend" &&
      e.anchor === "carol" && e.chat === "bob" && e.seq >= 3, 15_000);
    await a.node.directMailIdle();
    assert.deepEqual(await states(a, "bob"), ["at-anchor", "at-anchor", "at-anchor"]);
    assert.equal((await c.node.call("status", {})).carrying?.boxes, 3);
    await a.stop();

    b2 = await startTestNode("bob", { host: "127.0.0.123", dir: b.dir });
    await until(
      async () => (await texts(b2!, "alice")).length === sent.length,
      20_000,
      "bob gets alice's messages from carol",
    );
    assert.deepEqual(await texts(b2, "alice"), sent);
    const taken = await b2.waitFor((e) =>
      e.type === "direct-mail" && e.op === "taken" && e.by === "friend" && e.anchor === "carol"
    );
    assert.ok(taken.type === "direct-mail" && taken.op === "taken" && taken.stored === 3);
    assert.ok(!sawSession(b2, "alice"), "bob had a session with alice");
    // Carol carried them but could not read them: her own chats hold none of it.
    assert.deepEqual(await texts(c, "alice"), []);
    assert.deepEqual(await texts(c, "bob"), []);
  } finally {
    await a.stop();
    await b.stop();
    await b2?.stop();
  }
});

Deno.test("1:1 mail: a friend running --no-carry holds none of it; the message stays stored", async () => {
  await using c = await startTestNode("carol", { host: "127.0.0.124", carry: false });
  await using a = await startTestNode("alice", { host: "127.0.0.125" });
  const b = await startTestNode("bob", { host: "127.0.0.126" });
  try {
    await setUpFriends(a, b, c);
    await b.stop();
    await a.node.call("send", { chat: "bob", text: "anyone?" });
    // Carol lists no "carry": alice attaches no mailbox of hers, so nothing is under way.
    await a.node.directMailIdle();
    assert.deepEqual(await states(a, "bob"), ["stored"]);
    assert.ok(!a.events.some((e) => e.type === "direct-mail"));
    assert.equal((await c.node.call("status", {})).carrying, undefined);
  } finally {
    await b.stop();
  }
});

Deno.test("1:1 mail: an anchor of an older version (no dmail feature) is not used", async () => {
  await using anchor = await startTestNode("hive", {
    host: "127.0.0.127",
    passive: true,
    omitFeatures: ["dmail"],
  });
  await using a = await startTestNode("alice", { host: "127.0.0.128", carry: false });
  const b = await startTestNode("bob", { host: "127.0.0.129", carry: false });
  try {
    await setUp(anchor, a, b);
    await b.stop();
    await a.node.call("send", { chat: "bob", text: "still here?" });
    // No holder is attached, so nothing is under way once the send is done.
    await a.node.directMailIdle();
    assert.deepEqual(await states(a, "bob"), ["stored"]);
    assert.equal((await anchor.node.call("status", {})).mailbox?.boxes, 0);
  } finally {
    await b.stop();
  }
});

Deno.test("roj run carries 1:1 mail for contacts unless --no-carry", async () => {
  await using d1 = await tempDir("roj-carry-");
  await using d2 = await tempDir("roj-nocarry-");
  const [carries, refuses] = await Promise.all([
    spawnNode(d1.path, `127.0.0.130:${freePort("127.0.0.130")}`, "carol"),
    spawnNode(d2.path, `127.0.0.131:${freePort("127.0.0.131")}`, "dave", { args: ["--no-carry"] }),
  ]);
  try {
    const [on, off] = await Promise.all([
      callNode(carries, "status", {}) as Promise<StatusView>,
      callNode(refuses, "status", {}) as Promise<StatusView>,
    ]);
    assert.deepEqual(on.carrying, { boxes: 0, bytes: 0 });
    assert.equal(off.carrying, undefined);
  } finally {
    await Promise.all([carries.stop(), refuses.stop()]);
  }
});

/** Every file under `dir`, recursively. */
async function folderBytes(dir: string): Promise<Array<{ path: string; bytes: Uint8Array }>> {
  const out: Array<{ path: string; bytes: Uint8Array }> = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await folderBytes(path));
    else if (e.isFile) out.push({ path, bytes: await Deno.readFile(path) });
  }
  return out;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

Deno.test("1:1 mail: the anchor's data folder holds no text, and its mail no name or key of either", async () => {
  await using anchor = await startTestNode("hive", { host: "127.0.0.107", passive: true });
  await using a = await startTestNode("alice", { host: "127.0.0.108" });
  const b = await startTestNode("bob", { host: "127.0.0.109" });
  const secret = "meet at the old mill, 9pm";
  try {
    await setUp(anchor, a, b);
    await b.stop();
    await a.node.call("send", { chat: "bob", text: secret });
    await a.node.call("send", { chat: "bob", text: "bring the maps" });
    await a.waitFor((e) => e.type === "direct-mail" && e.op === "deposited" && e.seq >= 2, 15_000);
    assert.ok(((await anchor.node.call("status", {})).mailbox?.boxes ?? 0) >= 2);
  } finally {
    await b.stop();
  }
  await anchor.stop();
  const alice = a.node.publicKey;
  const bob = b.node.publicKey;
  const enc = (s: string) => new TextEncoder().encode(s);
  const files = await folderBytes(anchor.dir);
  assert.ok(files.length > 0);
  // Nowhere in the folder: the text, the chat's id, either key in base64 or as a key line.
  const nowhere: Array<[string, Uint8Array]> = [
    ["the text", enc(secret)],
    ["the second text", enc("bring the maps")],
    ["the chat id", enc(directChatId(alice, bob))],
    ["alice's key (base64)", enc(encodeB64(alice))],
    ["bob's key (base64)", enc(encodeB64(bob))],
    ["alice's key line", enc(publicKeyLine(alice).split(" ")[1]!)],
    ["bob's key line", enc(publicKeyLine(bob).split(" ")[1]!)],
  ];
  for (const f of files) {
    for (const [what, needle] of nowhere) {
      assert.equal(indexOf(f.bytes, needle), -1, `${f.path} holds ${what}`);
    }
  }
  // The mail itself (every value under the mailbox's keys) names neither, in any form
  // (tests/privacy_test.ts searches the whole folder, the contact list too).
  const kv = await Deno.openKv(`${anchor.dir}/roj.kv`).catch(() => null);
  assert.ok(kv, "the anchor's store opens");
  try {
    const mailBytes: Uint8Array[] = [];
    const uploaders = new Set<string>();
    for await (const r of kv.list<unknown>({ prefix: ["mbox"] })) {
      mailBytes.push(enc(JSON.stringify(r.key, (_k, v) => typeof v === "bigint" ? `${v}` : v)));
      const v = r.value as Record<string, unknown>;
      if (r.value instanceof Uint8Array) mailBytes.push(r.value);
      else if (v && typeof v === "object") {
        // Who uploaded a box is kept for the quota, as for group mail; who it is for is not.
        if (r.key.length === 3) uploaders.add(String(v.up));
        for (const [field, part] of Object.entries(v)) {
          if (field !== "up") mailBytes.push(part instanceof Uint8Array ? part : enc(String(part)));
        }
      }
    }
    assert.ok(mailBytes.length >= 2);
    // Filed under alice's keyed hash (contacts/member_ids.ts), not her key.
    assert.deepEqual([...uploaders], [toHex(anchor.node.contacts.storedId(alice))]);
    const never: Array<[string, Uint8Array]> = [
      ["alice", enc("alice")],
      ["bob", enc("bob")],
      ["bob's key", bob],
      ["alice's key", alice],
      ["bob's key (hex)", enc(toHex(bob))],
      ["alice's key (hex)", enc(toHex(alice))],
      ["the text", enc(secret)],
    ];
    for (const m of mailBytes) {
      for (const [what, needle] of never) {
        assert.equal(indexOf(m, needle), -1, `the mail holds ${what}`);
      }
    }
  } finally {
    kv.close();
  }
});
