/** The person's agreement key (devagree1): its generations, a device's keeping, contacts' rules. */
import assert from "node:assert/strict";
import { agreementPublicKey, createSigner, generateKeyPair } from "../identity/mod.ts";
import { MAX_KEPT, PersonAgreement } from "./person_agreement.ts";
import { PersonAgreeKeys } from "./person_agree_keys.ts";

const kv = () => Deno.openKv(":memory:");

Deno.test("the person key's node: one key per generation, the same again, apart from the key's own", async () => {
  await using store = await kv();
  const me = await generateKeyPair("alice");
  const signer = await createSigner(me);
  let gen = 0;
  const pa = await PersonAgreement.forPerson(store, signer, () => gen);
  const first = pa.publicKey()!;
  assert.equal(first.length, 32);
  assert.notDeepEqual(first, agreementPublicKey(me), "not the signing key's X25519 form");
  // Derived, not stored: the same key from the same person key.
  const again = await PersonAgreement.forPerson(store, signer, () => gen);
  assert.deepEqual(again.publicKey(), first);
  // A removal moves it on; older generations still open what was sealed to them.
  gen = 1;
  await pa.refresh();
  assert.notDeepEqual(pa.publicKey(), first);
  assert.equal(pa.current()!.gen, 1);
  assert.equal(pa.pairs().length, 2);
  assert.deepEqual(agreementPublicKey(pa.pairs()[1]!), first);
  assert.equal(pa.onDevice, false);
  assert.equal(await pa.take(5, new Uint8Array(32)), false, "the person's node takes none");
});

Deno.test("a device keeps what it was handed, the newest MAX_KEPT, across a restart", async () => {
  await using store = await kv();
  const person = (await generateKeyPair("alice")).publicKey;
  const pa = await PersonAgreement.forDevice(store, person);
  assert.equal(pa.current(), undefined);
  assert.equal(pa.publicKey(), undefined);
  const seed = (g: number) => new Uint8Array(32).fill(g + 1);
  assert.equal(await pa.take(0, seed(0)), true);
  assert.equal(await pa.take(0, seed(0)), false, "once");
  assert.equal(await pa.take(1, new Uint8Array(31)), false, "32 bytes only");
  for (let g = MAX_KEPT + 2; g >= 1; g--) await pa.take(g, seed(g));
  assert.equal(pa.pairs().length, MAX_KEPT);
  assert.equal(pa.current()!.gen, MAX_KEPT + 2);
  const back = await PersonAgreement.forDevice(store, person);
  assert.deepEqual(back.current()!.pair.seed, seed(MAX_KEPT + 2));
  assert.deepEqual(back.current()!.pair.publicKey, person);
  assert.equal(back.pairs().length, MAX_KEPT);
});

Deno.test("contacts: the person key's session sets and clears; a device's only fills a gap; a revocation drops", async () => {
  await using store = await kv();
  const keys = await PersonAgreeKeys.open(store);
  const alice = new Uint8Array(32).fill(7);
  const [k1, k2] = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
  await keys.heard(alice, k1, true);
  assert.deepEqual(keys.get(alice), k1, "a device's, when none is held");
  await keys.heard(alice, k2, true);
  assert.deepEqual(keys.get(alice), k1, "a device does not replace it");
  await keys.heard(alice, undefined, true);
  assert.deepEqual(keys.get(alice), k1, "nor clear it");
  await keys.heard(alice, k2, false);
  assert.deepEqual(keys.get(alice), k2, "the person key's session does");
  assert.deepEqual((await PersonAgreeKeys.open(store)).get(alice), k2, "kept in the store");
  await keys.revoked(alice);
  assert.equal(keys.get(alice), undefined);
  assert.equal((await PersonAgreeKeys.open(store)).get(alice), undefined);
  // A key taken while a revocation was being checked is the next one: it stays.
  await keys.heard(alice, k1, false);
  const mark = keys.mark();
  await keys.heard(alice, k2, false);
  await keys.revoked(alice, mark);
  assert.deepEqual(keys.get(alice), k2);
  await keys.revoked(alice, keys.mark());
  assert.equal(keys.get(alice), undefined);
  await keys.heard(alice, k1, false);
  await keys.heard(alice, undefined, false);
  assert.equal(keys.get(alice), undefined, "an older version's session clears it");
});
