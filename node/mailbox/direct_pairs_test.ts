import assert from "node:assert/strict";
import { agreementPublicKey, generateKeyPair, type KeyPair } from "../identity/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { DirectPairs, type PersonSides } from "./direct_pairs.ts";

/** A person's agreement key pair, as PersonAgreement holds one. */
const agreementOf = (person: Uint8Array): KeyPair => ({
  publicKey: person,
  seed: crypto.getRandomValues(new Uint8Array(32)),
  comment: "",
});

function node(
  keyPair: KeyPair,
  sides?: { onDevice: boolean; pair?: KeyPair; heard?: Map<Uint8Array, Uint8Array> },
): DirectPairs {
  const p = new DirectPairs(keyPair);
  if (sides) {
    const s: PersonSides = {
      onDevice: sides.onDevice,
      pair: () => sides.pair,
      of: (k) => [...(sides.heard ?? new Map()).entries()].find(([x]) => bytesEqual(x, k))?.[1],
    };
    p.sides = () => s;
  }
  return p;
}

/** Whether what `from` seals for `to` (person key `toKey`), `to` finds and opens. */
function reaches(from: DirectPairs, fromKey: Uint8Array, to: DirectPairs, toKey: Uint8Array) {
  const ps = from.sealing(toKey);
  if (!ps) return false;
  const tag = from.keys(ps, toKey, 7).tag;
  return to.opening(fromKey).some((o) => to.keys(o, toKey, 7).tag === tag);
}

Deno.test("1:1 mail pairs: without devices one secret per contact, as before devagree1", async () => {
  const alice = await generateKeyPair("alice");
  const bob = await generateKeyPair("bob");
  const a = node(alice), b = node(bob);
  assert.equal(a.opening(bob.publicKey).length, 1);
  assert.ok(a.sealing(bob.publicKey)!.legacy);
  assert.ok(reaches(a, alice.publicKey, b, bob.publicKey));
  assert.ok(reaches(b, bob.publicKey, a, alice.publicKey));
});

Deno.test("1:1 mail pairs: alice's phone, her laptop and bob who heard her pagree all reach each other", async () => {
  const alice = await generateKeyPair("alice");
  const phoneKey = await generateKeyPair("phone");
  const bob = await generateKeyPair("bob");
  const pa = agreementOf(alice.publicKey);
  const heard = new Map([[alice.publicKey, agreementPublicKey(pa)]]);
  const phone = node(phoneKey, { onDevice: true, pair: pa });
  const laptop = node(alice, { onDevice: false, pair: pa });
  const b = node(bob, { onDevice: false, heard });
  for (const alices of [phone, laptop]) {
    assert.ok(reaches(alices, alice.publicKey, b, bob.publicKey));
    assert.ok(reaches(b, bob.publicKey, alices, alice.publicKey));
  }
  // The phone has no person key: it neither seals nor looks under the old secret.
  assert.equal(phone.opening(bob.publicKey).length, 1);
  assert.ok(!phone.sealing(bob.publicKey)!.legacy);
  // Bob without her pagree (an older version) still reaches the laptop, not the phone.
  const old = node(bob);
  assert.ok(reaches(old, bob.publicKey, laptop, alice.publicKey));
  assert.ok(reaches(laptop, alice.publicKey, old, bob.publicKey));
  assert.ok(!reaches(old, bob.publicKey, phone, alice.publicKey));
  // A device not handed the agreement key yet seals nothing.
  assert.equal(node(phoneKey, { onDevice: true }).sealing(bob.publicKey), undefined);
});

Deno.test("1:1 mail pairs: two persons' phones, each having heard the other's pagree", async () => {
  const alice = await generateKeyPair("alice");
  const bob = await generateKeyPair("bob");
  const pa = agreementOf(alice.publicKey);
  const pb = agreementOf(bob.publicKey);
  const aPhone = node(await generateKeyPair("a-phone"), {
    onDevice: true,
    pair: pa,
    heard: new Map([[bob.publicKey, agreementPublicKey(pb)]]),
  });
  const bPhone = node(await generateKeyPair("b-phone"), {
    onDevice: true,
    pair: pb,
    heard: new Map([[alice.publicKey, agreementPublicKey(pa)]]),
  });
  const bLaptop = node(bob, {
    onDevice: false,
    pair: pb,
    heard: new Map([[alice.publicKey, agreementPublicKey(pa)]]),
  });
  assert.ok(reaches(aPhone, alice.publicKey, bPhone, bob.publicKey));
  assert.ok(reaches(bPhone, bob.publicKey, aPhone, alice.publicKey));
  assert.ok(reaches(aPhone, alice.publicKey, bLaptop, bob.publicKey));
  assert.ok(reaches(bLaptop, bob.publicKey, aPhone, alice.publicKey));
});
