import assert from "node:assert/strict";
import { certifyDevice } from "../devices/mod.ts";
import { isRojError } from "../errors.ts";
import {
  armorSshsig,
  type Certificate,
  createSigner,
  fingerprint,
  type KeyPair,
  NAMESPACES,
  publicKeyLine,
  type Signer,
  signPacked,
  signSshsig,
} from "../identity/mod.ts";
import { HAS_SSH_KEYGEN, sshKeygenOk, withTempDir } from "../../testing/ssh_keygen.ts";
import { WireReader, WireWriter } from "../wire/mod.ts";
import { cardBytes, cardText, isCardV2, openCard, signCard } from "./card.ts";
import { MAX_CARD_DEVICES, MAX_CARD_V2_BYTES, signCardV2 } from "./card_v2.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const NOW = 1_800_000_000_000;
const DAY = 86_400_000;

async function fixedKeyPair(first: number): Promise<KeyPair> {
  const { ed25519 } = await import("@noble/curves/ed25519.js");
  const seed = new Uint8Array(32).map((_, i) => (i + first) & 0xff);
  return { seed, publicKey: ed25519.getPublicKey(seed), comment: "golden" };
}

/** `person`'s certificate for `device`, from fixed fields. */
async function certify(
  person: Signer,
  device: Uint8Array,
  name: string,
  window: { from: number; until: number } = { from: NOW - DAY, until: NOW + 90 * DAY },
): Promise<Certificate> {
  return await certifyDevice(person, {
    deviceKey: device,
    name,
    validFrom: window.from,
    validUntil: window.until,
    serial: 1n,
    nonce: new Uint8Array(32).fill(9),
  });
}

/** alice (0), her phone (50); bob (100) and his tablet (150); mallory (200). */
async function people() {
  const alice = await createSigner(await fixedKeyPair(0));
  const phoneKey = await fixedKeyPair(50);
  const phoneCert = await certify(alice, phoneKey.publicKey, "phone");
  const phone: Signer = { ...await createSigner(phoneKey), certificate: phoneCert };
  const bob = await createSigner(await fixedKeyPair(100));
  const tabletKey = await fixedKeyPair(150);
  const tablet = await certify(bob, tabletKey.publicKey, "tablet");
  const mallory = await createSigner(await fixedKeyPair(200));
  return { alice, phone, phoneCert, bob, tablet, tabletKey, mallory };
}

const fields = (by: Uint8Array, person: Uint8Array, devices: Certificate[]) => ({
  by,
  person,
  name: "bob",
  devices,
  expires: NOW + 3_600_000,
  id: new Uint8Array(16).fill(7),
});

Deno.test("a v2 card's signed layout is pinned (golden): alice's phone's card of bob and his tablet", async () => {
  const p = await people();
  const card = await signCardV2(p.phone, fields(p.alice.publicKey, p.bob.publicKey, [p.tablet]));
  const r0 = new WireReader(card, "card");
  const payload = r0.string();
  const sig = r0.string();
  r0.end();
  // string "roj-card-v2", string introducer person key blob, string person key blob,
  // string name, uint32 device count, the certificates, uint64 expiry, string id.
  const r = new WireReader(payload, "card");
  assert.equal(r.text(), "roj-card-v2");
  assert.equal(
    hex(r.string()),
    hex(new WireWriter().string("ssh-ed25519").string(p.alice.publicKey).bytes()),
  );
  assert.equal(r.string().length, 51);
  assert.equal(r.text(), "bob");
  assert.equal(r.u32(), 1);
  assert.deepEqual(r.string(), p.tablet.blob);
  assert.equal(Number(r.u64()), NOW + 3_600_000);
  assert.equal(hex(r.string()), "07".repeat(16));
  r.end();
  // The SSHSIG names the phone's certificate, not its bare key.
  const sr = new WireReader(sig.subarray(6), "sshsig");
  sr.u32();
  assert.deepEqual(sr.string(), p.phoneCert.blob);
  assert.ok(card.length <= MAX_CARD_V2_BYTES);
  assert.equal(card.length, GOLDEN_CARD_V2_BYTES);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", card.slice()));
  assert.equal(hex(digest), GOLDEN_CARD_V2_SHA256);
  assert.match(cardText(card), /^rojcard2:[A-Za-z0-9_-]+$/);
});

Deno.test("a v2 card opens as the introducer's, with the person's devices; v1 cards still open", async () => {
  const p = await people();
  const card = await signCardV2(p.phone, fields(p.alice.publicKey, p.bob.publicKey, [p.tablet]));
  const opened = await openCard(cardBytes(cardText(card)), NOW);
  assert.deepEqual(opened.introducer, p.phone.publicKey, "the key that signed it");
  assert.deepEqual(opened.by, p.alice.publicKey, "the person it speaks for");
  assert.deepEqual(opened.signerCertificate?.blob, p.phoneCert.blob);
  assert.deepEqual(opened.devices?.map((c) => c.blob), [p.tablet.blob]);
  assert.deepEqual(opened.person, p.bob.publicKey);
  // Signed by the person key itself: no certificate needed.
  const byAlice = await openCard(
    await signCardV2(p.alice, fields(p.alice.publicKey, p.bob.publicKey, [p.tablet])),
    NOW,
  );
  assert.deepEqual(byAlice.by, p.alice.publicKey);
  assert.equal(byAlice.signerCertificate, undefined);
  // v1: unchanged, under its own prefix.
  const v1 = await signCard(p.alice, {
    person: p.bob.publicKey,
    name: "bob",
    expires: NOW + 3_600_000,
    id: new Uint8Array(16),
  });
  assert.ok(!isCardV2(v1));
  assert.match(cardText(v1), /^rojcard1:/);
  const o1 = await openCard(cardBytes(cardText(v1)), NOW);
  assert.equal(o1.by, undefined);
  assert.deepEqual(o1.introducer, p.alice.publicKey);
  // A prefix that does not match the version inside is refused.
  const swapped = "rojcard1:" + cardText(card).slice("rojcard2:".length);
  assert.throws(() => cardBytes(swapped), (err) => isRojError(err, "bad_input"));
});

Deno.test("a v2 card is refused: forged, signed by another person's device, expired or foreign certificates, too big", async () => {
  const p = await people();
  const refused = async (bytes: Uint8Array, why: RegExp, now = NOW) => {
    await assert.rejects(openCard(bytes, now), (err) => {
      assert.ok(isRojError(err, "bad_input"), String(err));
      assert.match((err as Error).message, why);
      return true;
    });
  };
  const good = await signCardV2(p.phone, fields(p.alice.publicKey, p.bob.publicKey, [p.tablet]));
  for (let i = 0; i < good.length; i += 41) {
    const bad = good.slice();
    bad[i] = bad[i]! ^ 0x10;
    await assert.rejects(openCard(bad, NOW), (err) => isRojError(err, "bad_input"));
  }
  // alice's card's payload signed by mallory's bare key: not signed by its introducer.
  const payloadOf = (card: Uint8Array) => new WireReader(card, "card").string();
  const alices = await signCardV2(p.alice, fields(p.alice.publicKey, p.bob.publicKey, []));
  await refused(
    await signPacked(p.mallory, NAMESPACES.intro, payloadOf(alices)),
    /not signed by its introducer/,
  );
  // A device certified by mallory (another person) signing as alice's.
  const malloryDevice: Signer = {
    ...await createSigner(await fixedKeyPair(60)),
    certificate: await certify(p.mallory, (await fixedKeyPair(60)).publicKey, "phone"),
  };
  await refused(
    await signCardV2(malloryDevice, fields(p.alice.publicKey, p.bob.publicKey, [])),
    /not its introducer's device now \(wrong_ca\)/,
  );
  // The same payload signed for invites is no card.
  await refused(
    new WireWriter().string(payloadOf(alices))
      .string(await signSshsig(p.alice, NAMESPACES.invite, payloadOf(alices))).bytes(),
    /signature/,
  );
  // The phone's certificate expired.
  const oldPhone: Signer = {
    ...p.phone,
    certificate: await certify(p.alice, p.phone.publicKey, "phone", {
      from: NOW - 100 * DAY,
      until: NOW - DAY,
    }),
  };
  await refused(
    await signCardV2(oldPhone, fields(p.alice.publicKey, p.bob.publicKey, [])),
    /not its introducer's device now \(expired\)/,
  );
  // A device certificate of bob's that expired, or one that is mallory's, not bob's.
  const oldTablet = await certify(p.bob, p.tabletKey.publicKey, "tablet", {
    from: NOW - 100 * DAY,
    until: NOW - DAY,
  });
  await refused(
    await signCardV2(p.phone, fields(p.alice.publicKey, p.bob.publicKey, [oldTablet])),
    /a device in this card is not bob's now \(expired\)/,
  );
  const notBobs = await certify(p.mallory, p.tabletKey.publicKey, "tablet");
  await refused(
    await signCardV2(p.phone, fields(p.alice.publicKey, p.bob.publicKey, [notBobs])),
    /a device in this card is not bob's now/,
  );
  // The card itself expired.
  await refused(good, /expired at/, NOW + 3_600_000);
  // Too many devices (written by hand: signCardV2 keeps the first MAX_CARD_DEVICES).
  const many = await signCardV2(
    p.phone,
    fields(p.alice.publicKey, p.bob.publicKey, Array(MAX_CARD_DEVICES + 2).fill(p.tablet)),
  );
  assert.equal((await openCard(many, NOW)).devices?.length, MAX_CARD_DEVICES);
  // Too big: refused from its length, before any parsing.
  await refused(new Uint8Array(MAX_CARD_V2_BYTES + 1), /damaged/);
  assert.throws(
    () => cardBytes("rojcard2:" + "A".repeat(4000)),
    (err) => isRojError(err, "bad_input"),
  );
});

Deno.test({
  name:
    "ssh-keygen -Y verify checks a device-signed v2 card with cert-authority and the person key",
  ignore: !HAS_SSH_KEYGEN,
}, async () => {
  const p = await people();
  // Valid now: ssh-keygen checks the certificate's window at the wall clock.
  const now = { from: Date.now() - DAY, until: Date.now() + DAY };
  const phone = {
    ...p.phone,
    certificate: await certify(p.alice, p.phone.publicKey, "phone", now),
  };
  const card = await signCardV2(phone, fields(p.alice.publicKey, p.bob.publicKey, []));
  const r = new WireReader(card, "card");
  const payload = r.string();
  const sig = r.string();
  const fp = fingerprint(p.alice.publicKey);
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/allowed`,
      `${fp} cert-authority ${publicKeyLine(p.alice.publicKey, "alice")}\n`,
    );
    await Deno.writeTextFile(`${dir}/card.sig`, armorSshsig(sig));
    const out = await sshKeygenOk(
      [
        "-Y",
        "verify",
        "-f",
        `${dir}/allowed`,
        "-I",
        fp,
        "-n",
        "roj-intro",
        "-s",
        `${dir}/card.sig`,
      ],
      payload,
    );
    assert.match(out, /Good "roj-intro" signature/);
  });
});

/** Ed25519 and the fixed nonces make the whole card deterministic. */
const GOLDEN_CARD_V2_BYTES = 1019;
const GOLDEN_CARD_V2_SHA256 = "2a8b9cf75a370c881de2aaf4c284d4224b12fd3ef22d3fdbd350c4b7dfa96582";
