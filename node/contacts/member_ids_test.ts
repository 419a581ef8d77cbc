import assert from "node:assert/strict";
import { tempStore } from "../../testing/temp.ts";
import { keys } from "../store/mod.ts";
import { toHex } from "../wire/mod.ts";
import { SealedStore } from "../discovery/mod.ts";
import { MailboxStore } from "../mailbox/mod.ts";
import { ContactBook } from "./contact_book.ts";
import { MEMBER_ID_BYTES, MemberIds, memberTag } from "./member_ids.ts";

const ALICE = new Uint8Array(32).fill(0xa1);
const BOB = new Uint8Array(32).fill(0xb0);

function holds(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** Every key and value in the store as bytes (v8-serialised values as stored). */
async function dump(kv: Deno.Kv): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const enc = new TextEncoder();
  const leaf = (v: unknown): void => {
    if (v instanceof Uint8Array) out.push(v);
    else if (Array.isArray(v)) v.forEach(leaf);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(leaf);
    else out.push(enc.encode(String(v)));
  };
  for await (const r of kv.list<unknown>({ prefix: [] })) (leaf([...r.key]), leaf(r.value));
  return out;
}

Deno.test("member ids: stable per anchor, different between anchors, not the key", async () => {
  await using t = await tempStore();
  await using u = await tempStore();
  const ids = await MemberIds.open(t.store);
  const again = await MemberIds.open(t.store);
  const other = await MemberIds.open(u.store);
  assert.equal(ids.id(ALICE).length, MEMBER_ID_BYTES);
  assert.equal(ids.hex(ALICE), again.hex(ALICE));
  assert.notEqual(ids.hex(ALICE), ids.hex(BOB));
  assert.notEqual(ids.hex(ALICE), other.hex(ALICE));
  assert.ok(!toHex(ALICE).includes(ids.hex(ALICE)));
});

Deno.test("a blind contact book stores no key, name or address; an old one is converted on open", async () => {
  await using t = await tempStore();
  // An anchor of an older version: its contact list holds keys and names.
  const old = await ContactBook.open(t.store);
  await old.add(ALICE, "alicia-wren", ["127.0.0.5:7022"], 1000);
  await old.add(BOB, "bertram-oak", [], 1001);
  await old.update(BOB, { lastSeen: 1500 });
  const sealed = await SealedStore.open(t.store);
  await sealed.put(ALICE, [{ tag: new Uint8Array(16).fill(3), blob: new Uint8Array(40) }], 1000);
  const mail = await MailboxStore.open(t.store);
  await mail.put(BOB, "ab".repeat(16), [{ id: "0".repeat(32), box: new Uint8Array(20) }], 1000);

  const ids = await MemberIds.open(t.store);
  const book = await ContactBook.open(t.store, ids);
  const sealed2 = await SealedStore.open(t.store, undefined, (k) => book.storedId(k));
  const mail2 = await MailboxStore.open(t.store, {}, (k) => book.storedId(k));
  const bytes = await dump(t.store.kv);
  for (
    const needle of [
      ALICE,
      BOB,
      new TextEncoder().encode(toHex(ALICE)),
      new TextEncoder().encode(toHex(BOB)),
      new TextEncoder().encode("alicia-wren"),
      new TextEncoder().encode("bertram-oak"),
      new TextEncoder().encode("127.0.0.5"),
    ]
  ) {
    assert.ok(!bytes.some((b) => holds(b, needle)), `the store still holds ${needle}`);
  }
  assert.equal(book.acceptedCount, 2);
  // A member who logs in is found by the key it presents, named by a tag.
  const bob = book.get(BOB);
  assert.equal(bob?.name, memberTag(ids.hex(BOB)));
  assert.equal(bob?.lastSeen, 1500);
  assert.equal(book.accepted(new Uint8Array(32).fill(7)), undefined);
  assert.equal(sealed2.size, 1);
  assert.equal((await sealed2.get([new Uint8Array(16).fill(3)])).length, 1);
  assert.deepEqual(mail2.usageOf(BOB), { boxes: 1, bytes: 20 });
  // Removing a member drops its copies, found by id.
  assert.equal(await sealed2.drop(ALICE), 1);
  await book.remove(ALICE);
  assert.equal(book.acceptedCount, 1);
  const reopened = await ContactBook.open(t.store, ids);
  assert.equal(reopened.acceptedCount, 1);
  assert.equal(reopened.get(ALICE), undefined);
  await assert.rejects(() => reopened.rename(BOB, "bob"), /keeps no names/);
  assert.equal((await t.store.kv.get(keys.member(ids.hex(BOB)))).value !== null, true);
});
