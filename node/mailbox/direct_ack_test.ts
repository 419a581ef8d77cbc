import assert from "node:assert/strict";
import { tempStore } from "../../testing/temp.ts";
import { toHex } from "../wire/mod.ts";
import { ackCommit, ackToken } from "./direct_ack.ts";
import { mailboxKeys } from "./mailbox_crypto.ts";
import { MailboxStore } from "./mailbox_store.ts";

Deno.test("dmail-ack: the token and its commit have exactly their pinned bytes", () => {
  // A change here makes boxes filed by one version undeletable by the other's ack.
  const mk = mailboxKeys(new Uint8Array(32).fill(7));
  assert.equal(mk.tag, "3fcd917d2000914df6cd0946169b4f9b");
  const token = ackToken(mk);
  assert.equal(toHex(token), "0a7fc9aa354e9f2bc1a064e94c55d4be9e5e42ce0cb9c6f7d7a865d326bf0cb0");
  assert.equal(
    ackCommit(token),
    "8cda069152cd5c5b5e8c0a89125dc5141ae85cafa8f48d642d35dad5611cf30e",
  );
  // Another week's (or direction's) keys make another token.
  assert.notEqual(toHex(ackToken(mailboxKeys(new Uint8Array(32).fill(8)))), toHex(token));
});

Deno.test("mailbox store: release deletes only boxes up to the number acked, filed with that commit", async () => {
  await using t = await tempStore();
  const m = await MailboxStore.open(t.store);
  const up = new Uint8Array(32).fill(1);
  const tag = "ab".repeat(16);
  const id = (i: number) => i.toString(16).padStart(32, "0");
  const k = ackCommit(ackToken(mailboxKeys(new Uint8Array(32).fill(7))));
  // Boxes 1-2 with the commit, 3 without (an older sender), 4 with it, one of several parts.
  await m.put(
    up,
    tag,
    [{ id: id(1), box: new Uint8Array(10) }, { id: id(2), box: new Uint8Array(20) }],
    1,
    k,
  );
  await m.put(up, tag, [{ id: id(3), box: new Uint8Array(30) }], 2);
  await m.put(up, tag, [{ id: id(4), box: new Uint8Array(70_000) }], 3, k);
  assert.equal(await m.release(tag, 4, "00".repeat(32)), 0, "a wrong token deletes nothing");
  assert.equal(await m.release(tag, 3, k), 2);
  assert.deepEqual((await m.fetch(tag, 0, 100, 4)).items.map((i) => i.n), [3, 4]);
  assert.deepEqual(m.usageOf(up), { boxes: 2, bytes: 70_030 });
  assert.equal(await m.release(tag, 4, k), 1);
  assert.deepEqual((await m.fetch(tag, 0, 100, 4)).items.map((i) => i.n), [3]);
  // Nothing of the big box is left behind, parts or expiry index.
  const left: unknown[] = [];
  for await (const r of t.store.kv.list({ prefix: ["mbox", tag, 4] })) left.push(r.key);
  for await (const r of t.store.kv.list({ prefix: ["mbox-at", 3] })) left.push(r.key);
  assert.deepEqual(left, []);
  // Reopened, the counts agree.
  const again = await MailboxStore.open(t.store);
  assert.deepEqual(again.usageOf(up), { boxes: 1, bytes: 30 });
});
