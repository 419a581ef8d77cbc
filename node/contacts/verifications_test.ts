/** Verified marks: kept across a reopen, and void once either key is not the one compared. */
import assert from "node:assert/strict";
import { tempStore } from "../../testing/temp.ts";
import { safetyNumber } from "../identity/mod.ts";
import { Verifications } from "./verifications.ts";

const key = (n: number) => new Uint8Array(32).fill(n);

Deno.test("a mark holds for the keys compared, survives a reopen, and a changed key drops it", async () => {
  await using t = await tempStore();
  const [me, bob, carol] = [key(1), key(2), key(3)];
  const v = await Verifications.open(t.store, me);
  assert.equal(v.number(bob), safetyNumber(me, bob));
  assert.equal(v.isVerified(bob), false);
  await v.mark(bob, 1234);
  assert.equal(v.verifiedAt(bob), 1234);
  assert.equal(v.isVerified(carol), false, "a mark is for one contact");

  assert.equal((await Verifications.open(t.store, me)).verifiedAt(bob), 1234, "kept in the store");
  // The same store under another identity of ours: the number compared is not ours any more.
  assert.equal((await Verifications.open(t.store, key(9))).isVerified(bob), false);

  await v.forget(bob);
  assert.equal(v.isVerified(bob), false);
  assert.equal((await Verifications.open(t.store, me)).isVerified(bob), false, "forgotten");
});

Deno.test("a damaged mark in the store reads as not verified", async () => {
  await using t = await tempStore();
  await t.store.kv.set(["verified", key(2)], { number: "12", at: 1 });
  assert.equal((await Verifications.open(t.store, key(1))).isVerified(key(2)), false);
});
