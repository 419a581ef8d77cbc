import assert from "node:assert/strict";
import { isRojError } from "../errors.ts";
import {
  armorSshsig,
  createSigner,
  generateKeyPair,
  type KeyPair,
  NAMESPACES,
  publicKeyLine,
  signSshsig,
} from "../identity/mod.ts";
import { HAS_SSH_KEYGEN, sshKeygenOk, withTempDir } from "../../testing/ssh_keygen.ts";
import { WireReader, WireWriter } from "../wire/mod.ts";
import { cardBytes, cardText, openCard, signCard } from "./card.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const NOW = 1_800_000_000_000;

async function fixedKeyPair(first: number): Promise<KeyPair> {
  const { ed25519 } = await import("@noble/curves/ed25519.js");
  const seed = new Uint8Array(32).map((_, i) => i + first);
  return { seed, publicKey: ed25519.getPublicKey(seed), comment: "golden" };
}

/** alice's card of bob, from fixed keys and fields. */
async function goldenCard(): Promise<Uint8Array> {
  const alice = await createSigner(await fixedKeyPair(0));
  const bob = await fixedKeyPair(100);
  return await signCard(alice, {
    person: bob.publicKey,
    name: "bob",
    expires: NOW + 3_600_000,
    id: new Uint8Array(16).fill(7),
  });
}

const payloadOf = (card: Uint8Array) => new WireReader(card, "card").string();

Deno.test("a card's signed layout is pinned (golden)", async () => {
  const card = await goldenCard();
  const payload = payloadOf(card);
  // string "roj-card-v1", string introducer key blob, string person key blob,
  // string name, uint64 expiry, string id.
  const r = new WireReader(payload, "card");
  assert.equal(r.text(), "roj-card-v1");
  assert.equal(r.string().length, 51);
  assert.equal(r.string().length, 51);
  assert.equal(r.text(), "bob");
  assert.equal(Number(r.u64()), NOW + 3_600_000);
  assert.equal(hex(r.string()), "07".repeat(16));
  r.end();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", card.slice()));
  assert.equal(hex(digest), GOLDEN_CARD_SHA256);
});

Deno.test("a card opens; altered, expired, re-namespaced or foreign-signed ones do not", async () => {
  const card = await goldenCard();
  const opened = await openCard(card, NOW);
  assert.equal(opened.name, "bob");
  assert.deepEqual(opened.introducer, (await fixedKeyPair(0)).publicKey);
  assert.deepEqual(await openCard(cardBytes(cardText(card)), NOW), opened);

  const refused = async (bytes: Uint8Array, now = NOW) => {
    await assert.rejects(openCard(bytes, now), (err) => isRojError(err, "bad_input"));
  };
  for (let i = 0; i < card.length; i += 37) {
    const bad = card.slice();
    bad[i] = bad[i]! ^ 0x10;
    await refused(bad);
  }
  await refused(card, NOW + 3_600_000); // expired
  await refused(card.slice(0, -1));
  await refused(new Uint8Array(2000));
  // The same payload signed for invites is no card.
  const alice = await createSigner(await fixedKeyPair(0));
  const payload = payloadOf(card);
  const asInvite = await signSshsig(alice, NAMESPACES.invite, payload);
  await refused(new WireWriter().string(payload).string(asInvite).bytes());
  assert.throws(() => cardBytes("roj1:AAAA"), (err) => isRojError(err, "bad_input"));
});

Deno.test({
  name: "ssh-keygen -Y verify -n roj-intro checks a card's signature",
  ignore: !HAS_SSH_KEYGEN,
}, async () => {
  const kp = await generateKeyPair("x");
  const card = await signCard(await createSigner(kp), {
    person: (await generateKeyPair("x")).publicKey,
    name: "carol",
    expires: Date.now() + 60_000,
    id: new Uint8Array(16),
  });
  const outer = new WireReader(card, "card");
  const payload = outer.string();
  const sig = outer.string();
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/allowed`, `alice ${publicKeyLine(kp.publicKey, "alice")}\n`);
    await Deno.writeTextFile(`${dir}/card.sig`, armorSshsig(sig));
    const out = await sshKeygenOk(
      [
        "-Y",
        "verify",
        "-f",
        `${dir}/allowed`,
        "-I",
        "alice",
        "-n",
        "roj-intro",
        "-s",
        `${dir}/card.sig`,
      ],
      payload,
    );
    assert.match(out, /Good "roj-intro" signature for alice/);
  });
});

/** SHA-256 of the whole golden card: Ed25519 is deterministic, so the signature is too. */
const GOLDEN_CARD_SHA256 = "a910a7956bb687761743df0139d36caeec92284324252883722c1fef7876ce41";
