import assert from "node:assert/strict";
import { agreementPublicKey, generateKeyPair, sharedSecretOf, x25519SharedSecret } from "./mod.ts";
import { RojError } from "../errors.ts";

Deno.test("sharedSecretOf gives x25519SharedSecret's bytes, both ways, with and without a published key", async () => {
  const alice = await generateKeyPair("alice");
  const bob = await generateKeyPair("bob");
  const carol = await generateKeyPair("carol");
  const ab = sharedSecretOf(alice, bob.publicKey);
  assert.deepEqual(ab, x25519SharedSecret(alice, bob.publicKey));
  assert.deepEqual(sharedSecretOf(bob, alice.publicKey), ab);
  // Asked again: the same answer (from the cache).
  assert.deepEqual(sharedSecretOf(alice, bob.publicKey), ab);
  // A contact's published X25519 key is part of what is cached on.
  const agree = agreementPublicKey(carol);
  assert.deepEqual(
    sharedSecretOf(alice, bob.publicKey, agree),
    x25519SharedSecret(alice, bob.publicKey, agree),
  );
  assert.notDeepEqual(sharedSecretOf(alice, bob.publicKey, agree), ab);
});

Deno.test("sharedSecretOf refuses a key that is not one, as x25519SharedSecret does", async () => {
  const alice = await generateKeyPair("alice");
  assert.throws(() => sharedSecretOf(alice, new Uint8Array(31)), RojError);
  // A low-order X25519 point makes an all-zero secret: refused, never cached as zeros.
  assert.throws(() => sharedSecretOf(alice, new Uint8Array(32), new Uint8Array(32)), RojError);
});
