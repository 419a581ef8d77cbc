import assert from "node:assert/strict";
import type { ContactBook } from "../contacts/mod.ts";
import { addCertificate, addRevocation, certifyDevice, emptyDeviceBook } from "../devices/mod.ts";
import { type Certificate, createSigner, generateKeyPair, type Signer } from "../identity/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { isCardV2, openCard } from "./card.ts";
import { MAX_CARD_DEVICES } from "./card_v2.ts";
import {
  cardDevices,
  type CardReader,
  introducerOf,
  learnCardDevices,
  makeCard,
} from "./intro_people.ts";

const NOW = Date.now();
const DAY = 86_400_000;

async function certify(person: Signer, device: Uint8Array, until = NOW + 90 * DAY) {
  return await certifyDevice(person, {
    deviceKey: device,
    name: "dev",
    validFrom: NOW - DAY,
    validUntil: until,
    serial: 1n,
    nonce: new Uint8Array(32),
  });
}

async function setup() {
  const alice = await createSigner(await generateKeyPair("alice"));
  const phoneKey = await generateKeyPair("phone");
  const phone: Signer = {
    ...await createSigner(phoneKey),
    certificate: await certify(alice, phoneKey.publicKey),
  };
  const bob = await createSigner(await generateKeyPair("bob"));
  const tablet = await certify(bob, (await generateKeyPair("tablet")).publicKey);
  return { alice, phone, bob, tablet };
}

const fields = (person: Uint8Array) => ({
  person,
  name: "bob",
  expires: NOW + 3_600_000,
  id: new Uint8Array(16).fill(1),
});

Deno.test("makeCard: v1 unless a device signs or the person has devices, and v2 only where it is taken", async () => {
  const { alice, phone, bob, tablet } = await setup();
  const none = () => [] as Certificate[];
  const tablets = (p: Uint8Array) => bytesEqual(p, bob.publicKey) ? [tablet] : [];
  const me = alice.publicKey;
  // The person key, of a person without devices: v1, as before.
  assert.ok(
    !isCardV2(await makeCard({ me, signer: alice, devicesOf: none }, fields(bob.publicKey), true)),
  );
  // Of a person with devices: v2 carrying them; v1 for a peer without intro2.
  const withTablet = await makeCard(
    { me, signer: alice, devicesOf: tablets },
    fields(bob.publicKey),
    true,
  );
  assert.ok(isCardV2(withTablet));
  assert.deepEqual((await openCard(withTablet, NOW)).devices?.map((c) => c.blob), [tablet.blob]);
  assert.ok(
    !isCardV2(
      await makeCard({ me, signer: alice, devicesOf: tablets }, fields(bob.publicKey), false),
    ),
  );
  // Signed on a device: v2 naming alice and carrying the phone's certificate; else v1 by the phone's key.
  const onPhone = await makeCard(
    { me, signer: phone, devicesOf: none },
    fields(bob.publicKey),
    true,
  );
  const opened = await openCard(onPhone, NOW);
  assert.deepEqual(opened.by, alice.publicKey);
  assert.deepEqual(opened.signerCertificate?.blob, phone.certificate!.blob);
  const old = await openCard(
    await makeCard({ me, signer: phone, devicesOf: none }, fields(bob.publicKey), false),
    NOW,
  );
  assert.equal(old.by, undefined);
  assert.deepEqual(old.introducer, phone.publicKey);
});

Deno.test("introducerOf: a contact's device by its certificate, unless revoked here; v1 by what is known", async () => {
  const { alice, phone, bob } = await setup();
  const card = await openCard(
    await makeCard(
      { me: alice.publicKey, signer: phone, devicesOf: () => [] },
      fields(bob.publicKey),
      true,
    ),
    NOW,
  );
  let book = emptyDeviceBook(alice.publicKey);
  const learnt: Certificate[] = [];
  const reader = (contact: boolean): CardReader => ({
    me: bob.publicKey,
    contacts: {
      get: (k: Uint8Array) => contact && bytesEqual(k, alice.publicKey) ? {} : undefined,
    } as unknown as ContactBook,
    personOf: (k) =>
      book.devices.has([...k].map((b) => b.toString(16).padStart(2, "0")).join("")) &&
        cardDevices(book, NOW).some((c) => bytesEqual(c.publicKey, k))
        ? alice.publicKey
        : k,
    learnDevice: (_p, c) => {
      learnt.push(c);
      book = addCertificate(book, c);
      return Promise.resolve();
    },
  });
  assert.deepEqual(await introducerOf(reader(true), card), alice.publicKey);
  assert.deepEqual(learnt.map((c) => c.blob), [phone.certificate!.blob], "kept in alice's book");
  // Revoked here: the phone speaks for nobody, whatever its certificate says.
  book = addRevocation(book, {
    person: alice.publicKey,
    device: phone.publicKey,
    from: NOW - 1000,
    reason: "",
  });
  assert.deepEqual(await introducerOf(reader(true), card), phone.publicKey);
  // alice is nobody here: her certificate is all there is, and nothing is stored.
  learnt.length = 0;
  assert.deepEqual(await introducerOf(reader(false), card), alice.publicKey);
  assert.equal(learnt.length, 0);
});

Deno.test("cardDevices: valid, unrevoked devices, latest-ending first, at most MAX_CARD_DEVICES; learnCardDevices takes them", async () => {
  const { bob, alice } = await setup();
  const keys = await Promise.all([1, 2, 3, 4, 5].map((i) => generateKeyPair(`d${i}`)));
  const certs = await Promise.all(
    keys.map((k, i) => certify(bob, k.publicKey, NOW + (i + 1) * DAY)),
  );
  const expired = await certifyDevice(bob, {
    deviceKey: (await generateKeyPair("old")).publicKey,
    name: "old",
    validFrom: NOW - 10 * DAY,
    validUntil: NOW - DAY,
    serial: 2n,
    nonce: new Uint8Array(32),
  });
  let book = emptyDeviceBook(bob.publicKey);
  for (const c of [...certs, expired]) book = addCertificate(book, c);
  book = addRevocation(book, {
    person: bob.publicKey,
    device: keys[4]!.publicKey,
    from: 0,
    reason: "",
  });
  const picked = cardDevices(book, NOW);
  assert.equal(picked.length, MAX_CARD_DEVICES);
  assert.deepEqual(picked.map((c) => c.blob), [certs[3]!, certs[2]!, certs[1]!].map((c) => c.blob));

  const card = await makeCard(
    { me: alice.publicKey, signer: alice, devicesOf: () => picked },
    fields(bob.publicKey),
    true,
  );
  const learnt: Uint8Array[] = [];
  const d = {
    learnDevice: (p: Uint8Array, c: Certificate) => (learnt.push(p, c.blob), Promise.resolve()),
  };
  await learnCardDevices(d, bob.publicKey, card);
  assert.equal(learnt.length, 2 * MAX_CARD_DEVICES);
  assert.deepEqual(learnt[1], certs[3]!.blob);
  learnt.length = 0;
  await learnCardDevices(
    d,
    bob.publicKey,
    await makeCard(
      { me: alice.publicKey, signer: alice, devicesOf: () => [] },
      fields(bob.publicKey),
      true,
    ),
  );
  assert.equal(learnt.length, 0, "a v1 card names no device");
});
