import assert from "node:assert/strict";
import { isRojError } from "../errors.ts";
import { generateKeyPair } from "./keys.ts";
import {
  agreementKeyIsOwn,
  agreementPublicKey,
  openSealed,
  publishedAgreementKey,
  seal,
  x25519SharedSecret,
} from "./seal.ts";
import { base64 } from "@scure/base";

const enc = new TextEncoder();
const record = enc.encode('{"addr":"203.0.113.7:2222"}');
const sealFailed = (e: unknown) => isRojError(e, "seal_failed");

Deno.test("sealed data opens for its recipient, with aad and context", async () => {
  const bob = await generateKeyPair("bob");
  for (
    const opts of [{}, { aad: enc.encode("tag") }, { context: "addr" }, {
      aad: new Uint8Array(),
      context: "",
    }]
  ) {
    const sealed = await seal(bob.publicKey, record, opts);
    assert.equal(sealed.length, 1 + 32 + 12 + record.length + 16);
    assert.equal(sealed[0], 1);
    assert.deepEqual(await openSealed(bob, sealed, opts), record);
  }
  assert.deepEqual(
    await openSealed(bob, await seal(bob.publicKey, new Uint8Array())),
    new Uint8Array(),
  );
});

Deno.test("sealing twice gives different bytes", async () => {
  const bob = await generateKeyPair("bob");
  assert.notDeepEqual(await seal(bob.publicKey, record), await seal(bob.publicKey, record));
});

Deno.test("a tampered byte anywhere fails to open", async () => {
  const bob = await generateKeyPair("bob");
  const sealed = await seal(bob.publicKey, record, { aad: enc.encode("a") });
  for (let i = 0; i < sealed.length; i++) {
    const bad = sealed.slice();
    bad[i]! ^= 0x01;
    await assert.rejects(openSealed(bob, bad, { aad: enc.encode("a") }), sealFailed, `byte ${i}`);
  }
});

Deno.test("another key, truncation, wrong aad or context fail to open", async () => {
  const bob = await generateKeyPair("bob");
  const eve = await generateKeyPair("eve");
  const opts = { aad: enc.encode("a"), context: "addr" };
  const sealed = await seal(bob.publicKey, record, opts);
  await assert.rejects(openSealed(eve, sealed, opts), sealFailed);
  for (const n of [0, 1, 33, 45, 60, sealed.length - 1]) {
    await assert.rejects(openSealed(bob, sealed.subarray(0, n), opts), sealFailed, `length ${n}`);
  }
  await assert.rejects(openSealed(bob, sealed, { context: "addr" }), sealFailed);
  await assert.rejects(
    openSealed(bob, sealed, { aad: enc.encode("b"), context: "addr" }),
    sealFailed,
  );
  await assert.rejects(
    openSealed(bob, sealed, { aad: enc.encode("a"), context: "invite" }),
    sealFailed,
  );
  await assert.rejects(openSealed(bob, new Uint8Array(80)), sealFailed);
});

Deno.test("seal refuses keys that are not ed25519 points", async () => {
  await assert.rejects(seal(new Uint8Array(31), record), (e) => isRojError(e, "bad_input"));
  // y = 2 is not on the curve.
  const notAPoint = new Uint8Array(32);
  notAPoint[0] = 2;
  await assert.rejects(seal(notAPoint, record), (e) => isRojError(e, "bad_input"));
});

Deno.test("x25519SharedSecret is symmetric and differs per pair", async () => {
  const [a, b, c] = await Promise.all(["a", "b", "c"].map(generateKeyPair));
  const ab = x25519SharedSecret(a!, b!.publicKey);
  assert.equal(ab.length, 32);
  assert.deepEqual(ab, x25519SharedSecret(b!, a!.publicKey));
  assert.notDeepEqual(ab, x25519SharedSecret(a!, c!.publicKey));
});

Deno.test("x25519SharedSecret rejects low-order keys", async () => {
  const a = await generateKeyPair("a");
  // The ed25519 identity point (y = 1) maps to a low-order X25519 key.
  const identity = new Uint8Array(32);
  identity[0] = 1;
  assert.throws(() => x25519SharedSecret(a, identity), (e) => isRojError(e, "bad_input"));
});

Deno.test("an agreement key of its own (a key in ssh-agent): sealed to it opens, and both sides agree", async () => {
  const file = await generateKeyPair("file");
  assert.equal(agreementKeyIsOwn(file), false, "a file key's is its ed25519 key's X25519 form");
  // As agent_key.ts makes it: the identity's public key, another seed for the agreement.
  const agent = { ...await generateKeyPair("agent"), seed: new Uint8Array(32).fill(5) };
  assert.equal(agreementKeyIsOwn(agent), true);
  const published = agreementPublicKey(agent);

  const data = new TextEncoder().encode("group key");
  const sealed = await seal(agent.publicKey, data, { to: published, context: "c" });
  assert.deepEqual(await openSealed(agent, sealed, { context: "c" }), data);
  // Sealed to the ed25519 key's X25519 form, as a peer that never heard of it would: does not open.
  await assert.rejects(
    openSealed(agent, await seal(agent.publicKey, data, { context: "c" }), { context: "c" }),
    (e) => isRojError(e, "seal_failed"),
  );
  assert.deepEqual(
    x25519SharedSecret(agent, file.publicKey),
    x25519SharedSecret(file, agent.publicKey, published),
  );
  assert.throws(
    () => x25519SharedSecret(file, agent.publicKey, new Uint8Array(31)),
    (e) => isRojError(e, "bad_input"),
  );
});

Deno.test("a published agreement key is taken only when it can be agreed with", async () => {
  const agent = { ...await generateKeyPair("agent"), seed: new Uint8Array(32).fill(5) };
  const key = agreementPublicKey(agent);
  assert.deepEqual(publishedAgreementKey(base64.encode(key)), key);
  assert.equal(publishedAgreementKey(undefined), undefined);
  assert.equal(publishedAgreementKey("not base64!"), undefined);
  assert.equal(publishedAgreementKey(base64.encode(new Uint8Array(31))), undefined);
  // Low-order points (all zeros, and u = 1): every secret with them would be zero.
  assert.equal(publishedAgreementKey(base64.encode(new Uint8Array(32))), undefined);
  const one = new Uint8Array(32);
  one[0] = 1;
  assert.equal(publishedAgreementKey(base64.encode(one)), undefined);
});
