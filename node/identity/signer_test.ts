import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { generateKeyPair } from "./keys.ts";
import { createSigner, createVerifier, verifyEd25519 } from "./signer.ts";

const data = new TextEncoder().encode("hello roj");

Deno.test("createSigner makes RFC 8032 signatures", async () => {
  // RFC 8032 §7.1 test 1: empty message.
  const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16));
  const seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const publicKey = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const signer = await createSigner({ seed, publicKey, comment: "" });
  const sig = await signer.sign(new Uint8Array());
  assert.deepEqual(
    sig,
    hex(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
  );
});

Deno.test("signatures verify, with and without a cached verifier", async () => {
  const kp = await generateKeyPair("");
  const signer = await createSigner(kp);
  assert.deepEqual(signer.publicKey, kp.publicKey);
  const sig = await signer.sign(data);
  assert.equal(sig.length, 64);
  assert.ok(ed25519.verify(sig, data, kp.publicKey));
  const v = createVerifier();
  for (const verify of [verifyEd25519, v.verify, v.verify]) {
    assert.equal(await verify(kp.publicKey, sig, data), true);
    assert.equal(await verify(kp.publicKey, sig, data.subarray(1)), false);
    const bad = sig.slice();
    bad[10]! ^= 1;
    assert.equal(await verify(kp.publicKey, bad, data), false);
  }
});

Deno.test("verification returns false, never throws, for bad lengths and keys", async () => {
  const kp = await generateKeyPair("");
  const sig = await (await createSigner(kp)).sign(data);
  const v = createVerifier();
  for (const verify of [verifyEd25519, v.verify]) {
    assert.equal(await verify(kp.publicKey.subarray(1), sig, data), false);
    assert.equal(await verify(kp.publicKey, sig.subarray(1), data), false);
    assert.equal(await verify(new Uint8Array(33), sig, data), false);
    assert.equal(await verify(new Uint8Array(32).fill(0xff), sig, data), false);
  }
});

Deno.test("a verifier with a small cache keeps working as keys are evicted", async () => {
  const v = createVerifier({ maxKeys: 2 });
  const signers = await Promise.all(
    [1, 2, 3].map(async () => createSigner(await generateKeyPair(""))),
  );
  const sigs = await Promise.all(signers.map((s) => s.sign(data)));
  for (let round = 0; round < 3; round++) {
    for (const [i, s] of signers.entries()) {
      assert.equal(await v.verify(s.publicKey, sigs[i]!, data), true);
    }
  }
  assert.equal(await v.verify(signers[0]!.publicKey, sigs[1]!, data), false);
  assert.throws(() => createVerifier({ maxKeys: 0 }), RangeError);
});
