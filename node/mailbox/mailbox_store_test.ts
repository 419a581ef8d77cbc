import assert from "node:assert/strict";
import { tempStore } from "../../testing/temp.ts";
import { openStore } from "../store/mod.ts";
import { boxId, epochMailboxSecret, mailboxKeys, openBox, sealBox } from "./mailbox_crypto.ts";
import { MailboxStore, MAX_BOX_BYTES } from "./mailbox_store.ts";

const ALICE = new Uint8Array(32).fill(1);
const BOB = new Uint8Array(32).fill(2);
const TAG = "ab".repeat(16);
const id = (i: number) => i.toString(16).padStart(32, "0");
const box = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

Deno.test("mailbox crypto: boxes open only with the epoch's keys; tags and ids hide the group", () => {
  const groupKey = new Uint8Array(32).fill(9);
  const epoch = "0f".repeat(16);
  const k = mailboxKeys(epochMailboxSecret("g-aaaaaaaaaaaaaaaaaaaaaaaaaa", epoch, groupKey));
  const other = mailboxKeys(epochMailboxSecret("g-bbbbbbbbbbbbbbbbbbbbbbbbbb", epoch, groupKey));
  // The next epoch of the same group (a new group key) files under a tag unrelated to this one.
  const next = mailboxKeys(
    epochMailboxSecret("g-aaaaaaaaaaaaaaaaaaaaaaaaaa", "1e".repeat(16), new Uint8Array(32).fill(8)),
  );
  assert.match(k.tag, /^[0-9a-f]{32}$/);
  assert.notEqual(k.tag, other.tag);
  assert.notEqual(k.tag, next.tag);
  const signed = new TextEncoder().encode("entry bytes");
  const sig = new Uint8Array([1, 2, 3]);
  const sealed = sealBox(k, signed, sig);
  assert.deepEqual(openBox(k, sealed), { signed, sig });
  assert.equal(openBox(other, sealed), null);
  assert.equal(openBox(next, sealed), null);
  sealed[30]! ^= 1;
  assert.equal(openBox(k, sealed), null);
  const h = new Uint8Array(32).fill(4);
  assert.equal(boxId(k, h), boxId(k, h));
  assert.notEqual(boxId(k, h), boxId(other, h));
});

Deno.test("mailbox store: arrival order, dedupe, large boxes, kept across a reopen", async () => {
  await using t = await tempStore();
  const m = await MailboxStore.open(t.store);
  const big = new Uint8Array(MAX_BOX_BYTES);
  crypto.getRandomValues(big.subarray(0, 65536));
  const r = await m.put(ALICE, TAG, [{ id: id(1), box: box(10) }, { id: id(2), box: big }], 1000);
  assert.deepEqual(r, { taken: 2, stored: 2, duplicates: 0 });
  const again = await m.put(BOB, TAG, [{ id: id(2), box: big }, { id: id(3), box: box(5) }], 1001);
  assert.deepEqual(again, { taken: 2, stored: 1, duplicates: 1 });
  const all = await m.fetch(TAG, 0, 100, 1002);
  assert.deepEqual(all.items.map((i) => i.n), [1, 2, 3]);
  assert.deepEqual(all.items[1]!.box, big);
  assert.equal(all.more, false);
  const page = await m.fetch(TAG, 1, 1, 1002);
  assert.deepEqual([page.items.map((i) => i.n), page.more], [[2], true]);
  assert.equal((await m.fetch("cd".repeat(16), 0, 100, 1002)).items.length, 0);
  assert.deepEqual(m.usageOf(BOB), { boxes: 1, bytes: 5 });
  assert.equal(m.duplicates, 1);
  assert.deepEqual(m.missing(TAG, [id(1), id(7), id(3)]), [id(7)]);
  assert.deepEqual(m.missing("cd".repeat(16), [id(1)]), [id(1)]);

  const tooBig = await m.put(
    ALICE,
    TAG,
    [{ id: id(9), box: new Uint8Array(MAX_BOX_BYTES + 1) }],
    1,
  );
  assert.equal(tooBig.taken, 0);
  assert.match(tooBig.reason!, /at most/);
  assert.equal(tooBig.code, "too-large");

  const reopened = await MailboxStore.open(t.store);
  assert.deepEqual(reopened.usage, { boxes: 3, bytes: 15 + MAX_BOX_BYTES });
  assert.equal((await reopened.fetch(TAG, 0, 100, 1003)).gen, all.gen);
  const r4 = await reopened.put(ALICE, TAG, [{ id: id(4), box: box(1) }], 1004);
  assert.equal(r4.stored, 1);
  assert.deepEqual((await reopened.fetch(TAG, 3, 100, 1005)).items.map((i) => i.n), [4]);
});

Deno.test("mailbox store: per-uploader quota and total cap refuse with a reason, evicting nothing", async () => {
  await using t = await tempStore();
  const m = await MailboxStore.open(t.store, { perUploaderBoxes: 2, totalBoxes: 3 });
  const r = await m.put(ALICE, TAG, [1, 2, 3].map((i) => ({ id: id(i), box: box(10) })), 0);
  assert.equal(r.taken, 2);
  assert.match(r.reason!, /quota on this anchor is full \(2 boxes/);
  assert.equal(r.code, "quota");
  // A duplicate of something held is still taken.
  assert.equal((await m.put(ALICE, TAG, [{ id: id(1), box: box(10) }], 0)).taken, 1);
  assert.equal((await m.put(BOB, TAG, [{ id: id(4), box: box(10) }], 0)).stored, 1);
  const full = await m.put(BOB, TAG, [{ id: id(5), box: box(10) }], 0);
  assert.deepEqual([full.taken, full.reason, full.code], [
    0,
    "this anchor's mailbox is full",
    "full",
  ]);
  const bad = await m.put(BOB, "zz", [{ id: id(5), box: box(10) }], 0);
  assert.deepEqual([bad.taken, bad.code], [0, "malformed"]);
  assert.equal((await m.fetch(TAG, 0, 100, 0)).items.length, 3);
  const bytes = await MailboxStore.open(t.store, { perUploaderBytes: 25 });
  const r2 = await bytes.put(BOB, "cd".repeat(16), [{ id: id(6), box: box(20) }], 0);
  assert.match(r2.reason!, /quota/);
  assert.equal(r2.code, "quota");
});

Deno.test("mailbox store: boxes expire, stop being served, and free their quota", async () => {
  await using t = await tempStore();
  const m = await MailboxStore.open(t.store, { ttlMs: 1000, perUploaderBoxes: 1 });
  assert.equal((await m.put(ALICE, TAG, [{ id: id(1), box: box(10) }], 0)).stored, 1);
  assert.equal((await m.fetch(TAG, 0, 100, 999)).items.length, 1);
  assert.equal((await m.fetch(TAG, 0, 100, 1000)).items.length, 0); // expired, not swept yet
  assert.equal(await m.sweep(1000), 1);
  assert.deepEqual(m.usage, { boxes: 0, bytes: 0 });
  // The quota is free again, and a later put sweeps by itself.
  assert.equal((await m.put(ALICE, TAG, [{ id: id(2), box: box(10) }], 1500)).stored, 1);
  const r = await m.put(ALICE, TAG, [{ id: id(3), box: box(10) }], 2600);
  assert.equal(r.stored, 1);
  assert.deepEqual((await m.fetch(TAG, 0, 100, 2600)).items.map((i) => i.n), [3]);
  // Nothing of the swept boxes is left in the store.
  const left = [];
  for await (const e of t.store.kv.list({ prefix: ["mbox-at"] })) left.push(e.key);
  assert.equal(left.length, 1);
});

Deno.test("mailbox store: a lost mailbox gets a new generation", async () => {
  await using a = await tempStore();
  await using b = await tempStore();
  const g1 = (await (await MailboxStore.open(a.store)).fetch(TAG, 0, 1, 0)).gen;
  const g2 = (await (await MailboxStore.open(b.store)).fetch(TAG, 0, 1, 0)).gen;
  assert.notEqual(g1, g2);
  const reopened = await openStore(a.store.path);
  try {
    assert.equal((await (await MailboxStore.open(reopened)).fetch(TAG, 0, 1, 0)).gen, g1);
  } finally {
    reopened.close();
  }
});
