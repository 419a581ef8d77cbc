import assert from "node:assert/strict";
import { generateKeyPair } from "../identity/mod.ts";
import {
  decryptGroupMessage,
  encryptGroupMessage,
  messageEpoch,
  newGroupKey,
  openGroupKey,
  sealGroupKey,
} from "./group_crypto.ts";
import { toHex } from "../log/mod.ts";

const CHAT = "g-aaaaaaaaaaaaaaaaaaaaaaaaaa";
const EPOCH = "0123456789abcdef0123456789abcdef";

Deno.test("group key: sealed to each recipient, opened only by them and only for this chat", async () => {
  const [alice, bob, eve] = await Promise.all(
    ["alice", "bob", "eve"].map((n) => generateKeyPair(n)),
  );
  const key = newGroupKey();
  const sealed = await sealGroupKey(CHAT, key, [alice!.publicKey, bob!.publicKey]);
  assert.deepEqual(
    Object.keys(sealed).sort(),
    [toHex(alice!.publicKey), toHex(bob!.publicKey)].sort(),
  );
  assert.deepEqual(await openGroupKey(bob!, CHAT, sealed[toHex(bob!.publicKey)]!), key);
  assert.equal(await openGroupKey(eve!, CHAT, sealed[toHex(bob!.publicKey)]!), null);
  assert.equal(
    await openGroupKey(bob!, "g-bbbbbbbbbbbbbbbbbbbbbbbbbb", sealed[toHex(bob!.publicKey)]!),
    null,
  );
  assert.equal(await openGroupKey(bob!, CHAT, "not base64!"), null);
});

Deno.test("group message: round trip, bound to chat, author and epoch", () => {
  const key = newGroupKey();
  const author = new Uint8Array(32).fill(1);
  const body = encryptGroupMessage(key, CHAT, author, EPOCH, "hello ✓");
  assert.equal(messageEpoch(body), EPOCH);
  assert.ok(!body.includes("hello"));
  assert.equal(decryptGroupMessage(key, CHAT, author, body), "hello ✓");
  assert.equal(decryptGroupMessage(newGroupKey(), CHAT, author, body), null);
  assert.equal(decryptGroupMessage(key, CHAT, new Uint8Array(32).fill(2), body), null);
  assert.equal(decryptGroupMessage(key, "g-bbbbbbbbbbbbbbbbbbbbbbbbbb", author, body), null);
  const other = JSON.stringify({ ...JSON.parse(body), e: "f".repeat(32) });
  assert.equal(decryptGroupMessage(key, CHAT, author, other), null);
  assert.equal(decryptGroupMessage(key, CHAT, author, "{}"), null);
  assert.equal(messageEpoch("plain text"), null);
});
