/**
 * A second copy of a record, sealed to a contact's person agreement key
 * (feature devagree1): her device finds it under the tag it computes with
 * that key and opens it; nobody else's tag is that one, and a node without
 * the key makes no second copy.
 */
import assert from "node:assert/strict";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { createSigner, generateKeyPair, type KeyPair } from "../identity/mod.ts";
import { signRecord } from "./address_record.ts";
import { type PersonAgreeOf, RecordSeals } from "./record_seals.ts";

const hooks = (
  of: (k: Uint8Array) => Uint8Array | undefined,
  devicePair?: KeyPair,
): NonNullable<PersonAgreeOf["personAgree"]> =>
() => ({ of, devicePair: () => devicePair, onDevice: devicePair !== undefined });

Deno.test("a record's second copy opens on the person's device with her agreement key", async () => {
  const [bob, alice, phone] = await Promise.all(
    ["bob", "alice", "phone"].map((n) => generateKeyPair(n)),
  );
  const seed = crypto.getRandomValues(new Uint8Array(32));
  // The person's agreement key as openSealed and pairwise use it: the person's key, that seed.
  const person: KeyPair = { publicKey: alice!.publicKey, seed, comment: "" };
  const pagree = x25519.getPublicKey(ed25519.utils.toMontgomerySecret(seed));
  const record = await signRecord(await createSigner(bob!), {
    seq: 3,
    time: 1,
    addresses: ["192.0.2.7:2222"],
  });
  const atBob = new RecordSeals(bob!, () => {}, {
    personAgree: hooks((k) => k.every((b, i) => b === alice!.publicKey[i]) ? pagree : undefined),
  });
  const copies = atBob.copiesFor(alice!.publicKey, record);
  assert.equal(copies.length, 2, "the usual copy and one to alice's agreement key");
  const onPhone = new RecordSeals(phone!, () => {}, {
    personAgree: hooks(() => undefined, person),
  });
  const known = {
    publicKey: bob!.publicKey,
    name: "bob",
    addresses: [],
    anchor: false,
    recordSeq: 0,
  };
  assert.equal(onPhone.theirTag(bob!.publicKey), copies[1]!.t, "the phone asks for that tag");
  assert.notEqual(copies[0]!.t, copies[1]!.t);
  const opened = await onPhone.open(known, copies[1]!, "carol");
  assert.deepEqual(opened?.addresses, ["192.0.2.7:2222"]);
  // The person key's own node still finds the usual one; a contact with no pagree gets one copy.
  const atLaptop = new RecordSeals(alice!, () => {}, { personAgree: hooks(() => undefined) });
  assert.equal(atLaptop.theirTag(bob!.publicKey), copies[0]!.t);
  assert.equal(atBob.copiesFor(phone!.publicKey, record).length, 1);
  // A device makes no second copy of its own record, whoever it is for.
  const phoneRecord = await signRecord(await createSigner(phone!), {
    seq: 1,
    time: 1,
    addresses: ["192.0.2.8:2222"],
  });
  const fromPhone = new RecordSeals(phone!, () => {}, { personAgree: hooks(() => pagree, person) });
  assert.equal(fromPhone.copiesFor(bob!.publicKey, phoneRecord).length, 1);
});
