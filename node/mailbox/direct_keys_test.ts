import assert from "node:assert/strict";
import { generateKeyPair, x25519SharedSecret } from "../identity/mod.ts";
import {
  DIRECT_WINDOW_MS,
  directMailKeys,
  directWindow,
  ownMailKeys,
  parseReceipt,
  receiptBytes,
  windowsDue,
} from "./direct_keys.ts";
import { boxId, openBox, sealBox } from "./mailbox_crypto.ts";

Deno.test("1:1 mail keys: both sides derive them; per direction and per window; sealed to the pair", async () => {
  const alice = await generateKeyPair("alice");
  const bob = await generateKeyPair("bob");
  const carol = await generateKeyPair("carol");
  const ab = x25519SharedSecret(alice, bob.publicKey);
  const ba = x25519SharedSecret(bob, alice.publicKey);
  const w = directWindow(1_800_000_000_000);
  const sent = directMailKeys(ab, bob.publicKey, w);
  const got = directMailKeys(ba, bob.publicKey, w);
  assert.equal(sent.tag, got.tag);
  assert.deepEqual(sent.key, got.key);
  // The other direction, and the next window, file under other tags.
  assert.notEqual(directMailKeys(ab, alice.publicKey, w).tag, sent.tag);
  assert.notEqual(directMailKeys(ab, bob.publicKey, w + 1).tag, sent.tag);
  // Carol, another contact of bob's, neither finds nor opens them.
  const cb = x25519SharedSecret(carol, bob.publicKey);
  const theirs = directMailKeys(cb, bob.publicKey, w);
  assert.notEqual(theirs.tag, sent.tag);
  const signed = new TextEncoder().encode("entry bytes");
  const box = sealBox(sent, signed, new Uint8Array(64));
  assert.deepEqual(openBox(got, box)?.signed, signed);
  assert.equal(openBox(theirs, box), null);
  // The same entry gets the same box id, so the anchor keeps it once.
  const hash = new Uint8Array(32).fill(7);
  assert.equal(boxId(sent, hash), boxId(got, hash));
});

Deno.test("1:1 mail keys: a pinned derivation (the bytes are on the wire)", () => {
  const secret = new Uint8Array(32).fill(1);
  const recipient = new Uint8Array(32).fill(2);
  const k = directMailKeys(secret, recipient, 2976);
  assert.equal(k.tag, directMailKeys(secret.slice(), recipient.slice(), 2976).tag);
  assert.equal(k.tag.length, 32);
  assert.equal(k.tag, PINNED_TAG);
});

/** directMailKeys(0x01 * 32, 0x02 * 32, 2976).tag, as first computed. */
const PINNED_TAG = "ca806f38dfa78d6ddc94c5dd2243a750";

Deno.test("windowsDue: from the window before the last visit to the one after now, within the lookback", () => {
  const now = 2976 * DIRECT_WINDOW_MS + 1000;
  assert.deepEqual(windowsDue(2976, now), [2975, 2976, 2977]);
  assert.deepEqual(windowsDue(2973, now), [2972, 2973, 2974, 2975, 2976, 2977]);
  // A first visit: the anchor's default expiry back (30 days: five weeks' windows), and one ahead.
  assert.deepEqual(windowsDue(undefined, now), [2971, 2972, 2973, 2974, 2975, 2976, 2977]);
  // Long away: no further back than that.
  assert.deepEqual(windowsDue(100, now), [2971, 2972, 2973, 2974, 2975, 2976, 2977]);
  // A last visit "in the future" (a clock set back) still fetches now's.
  assert.deepEqual(windowsDue(3000, now), [2975, 2976, 2977]);
});

Deno.test("receipts: magic and a big-endian seq; anything else is not one", () => {
  const r = receiptBytes(258);
  assert.equal(
    [...r].map((b) => b.toString(16).padStart(2, "0")).join(""),
    "726f6a2d646d61696c2d726563656970742d7631" + "0000000000000102",
  );
  assert.equal(parseReceipt(r), 258);
  assert.equal(parseReceipt(r.subarray(1)), null);
  assert.equal(parseReceipt(new Uint8Array(r.length)), null);
  const huge = r.slice();
  huge.fill(0xff, r.length - 8);
  assert.equal(parseReceipt(huge), null);
});

Deno.test("own mail keys: both devices derive them; never a 1:1 mail tag of the same pair; pinned", async () => {
  const laptop = await generateKeyPair("laptop");
  const phone = await generateKeyPair("phone");
  const lp = x25519SharedSecret(laptop, phone.publicKey);
  const pl = x25519SharedSecret(phone, laptop.publicKey);
  const w = directWindow(1_800_000_000_000);
  const sent = ownMailKeys(lp, phone.publicKey, w);
  assert.equal(sent.tag, ownMailKeys(pl, phone.publicKey, w).tag);
  assert.notEqual(ownMailKeys(lp, laptop.publicKey, w).tag, sent.tag);
  assert.notEqual(ownMailKeys(lp, phone.publicKey, w + 1).tag, sent.tag);
  // Another salt: the same pair's 1:1 mail (were they contacts) files elsewhere.
  assert.notEqual(directMailKeys(lp, phone.publicKey, w).tag, sent.tag);
  const k = ownMailKeys(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), 2976);
  assert.equal(k.tag, "15a7bd870b450094e4135e5246083694");
});
