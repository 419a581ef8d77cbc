import assert from "node:assert/strict";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { isRojError } from "../errors.ts";
import { agreementPublicKey, generateKeyPair, x25519SharedSecret } from "../identity/mod.ts";
import { pairwise } from "./pairwise.ts";

Deno.test("pairwise: both sides derive the same tags; copies open only for the pair", async () => {
  const [a, b, c] = await Promise.all(["a", "b", "c"].map(generateKeyPair));
  const ab = pairwise(a!)(b!.publicKey), ba = pairwise(b!)(a!.publicKey);
  assert.deepEqual(ab.tag(a!.publicKey), ba.tag(a!.publicKey));
  assert.deepEqual(ab.tag(b!.publicKey), ba.tag(b!.publicKey));
  assert.notDeepEqual(ab.tag(a!.publicKey), ab.tag(b!.publicKey));
  const record = new TextEncoder().encode("a record");
  const sealed = ab.seal(a!.publicKey, record);
  assert.deepEqual(ba.open(a!.publicKey, sealed), record);
  // Twice the same tag and key (cached), and the caller may not spoil the cache.
  ab.tag(a!.publicKey).fill(0);
  assert.deepEqual(ab.tag(a!.publicKey), ba.tag(a!.publicKey));
  assert.deepEqual(ba.open(a!.publicKey, ab.seal(a!.publicKey, record)), record);
  // Someone else: another tag, and the copy does not open.
  const ca = pairwise(c!)(a!.publicKey);
  assert.notDeepEqual(ca.tag(a!.publicKey), ab.tag(a!.publicKey));
  assert.throws(() => ca.open(a!.publicKey, sealed), (e) => isRojError(e, "seal_failed"));
});

Deno.test("pairwise: the native X25519 agrees with identity's; a low-order key is refused", async () => {
  for (let i = 0; i < 8; i++) {
    const [a, b] = await Promise.all([generateKeyPair("a"), generateKeyPair("b")]);
    // The tag is HKDF of the shared secret: equal tags mean equal secrets.
    const want = hkdf(
      sha256,
      x25519SharedSecret(a, b.publicKey),
      new TextEncoder().encode("roj-tag-v1"),
      a.publicKey,
      16,
    );
    assert.deepEqual(pairwise(a)(b.publicKey).tag(a.publicKey), want);
  }
  const a = await generateKeyPair("a");
  const lowOrder = new Uint8Array(32);
  lowOrder[0] = 1; // the ed25519 identity point
  assert.throws(() => pairwise(a)(lowOrder), (e) => isRojError(e, "bad_input"));
});

Deno.test("pairwise with a key in ssh-agent: the pair agrees once its published X25519 key is used", async () => {
  const file = await generateKeyPair("file");
  // As home/agent_key.ts makes it: the identity's public key, the agreement's own seed.
  const agent = { ...await generateKeyPair("agent"), seed: new Uint8Array(32).fill(3) };
  const published = agreementPublicKey(agent);
  const fromAgent = pairwise(agent)(file.publicKey);
  // The file key's side, before and after it heard of the published key (a fresh pair then).
  const heard: { key?: Uint8Array } = {};
  const fileSide = pairwise(file, () => heard.key);
  assert.notDeepEqual(
    fileSide(agent.publicKey).tag(agent.publicKey),
    fromAgent.tag(agent.publicKey),
  );
  heard.key = published;
  const fromFile = fileSide(agent.publicKey);
  assert.deepEqual(fromFile.tag(agent.publicKey), fromAgent.tag(agent.publicKey));
  assert.deepEqual(fromFile.lanTag(file.publicKey, 7), fromAgent.lanTag(file.publicKey, 7));
  const record = new TextEncoder().encode("a record");
  assert.deepEqual(fromFile.open(agent.publicKey, fromAgent.seal(agent.publicKey, record)), record);
  // Two keys in agents: each uses the other's published key.
  const other = { ...await generateKeyPair("other"), seed: new Uint8Array(32).fill(4) };
  const ao = pairwise(agent, () => agreementPublicKey(other))(other.publicKey);
  const oa = pairwise(other, () => published)(agent.publicKey);
  assert.deepEqual(ao.tag(other.publicKey), oa.tag(other.publicKey));
});
