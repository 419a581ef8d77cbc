/** The pure parts of device sync: certificates from entries, admitting entries, redial timing. */
import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { certifyDevice } from "../devices/mod.ts";
import { createSigner, generateKeyPair, type Signer } from "../identity/mod.ts";
import { certifiedSigner } from "../linking/mod.ts";
import { createEntry } from "../log/mod.ts";
import { admitsEntry, entryCertificates, MAX_LEARNT_PER_PUSH } from "./own_devices.ts";
import { Redial } from "./redial.ts";

const NOW = 1_800_000_000_000;

async function device(person: Signer, name: string): Promise<Signer> {
  const pair = await generateKeyPair(name);
  const cert = await certifyDevice(person, {
    deviceKey: pair.publicKey,
    name,
    validFrom: NOW - 60_000,
    validUntil: NOW + 86_400_000,
    serial: 1n,
    nonce: new Uint8Array(32),
  });
  return certifiedSigner(await createSigner(pair), cert);
}

const entry = (signer: Signer, ts = NOW) =>
  createEntry(signer, {
    chat: "d-0123456789abcdef0123456789abcdef",
    author: signer.publicKey,
    seq: 1,
    prev: null,
    lamport: 1,
    ts,
    type: "msg",
    body: "hi",
  });

Deno.test("entryCertificates: the certificate a device's entry carries, for its own author, once; none for a plain key", async () => {
  const person = await createSigner(await generateKeyPair("alice"));
  const phone = await device(person, "phone");
  const e1 = await entry(phone), e2 = await entry(phone, NOW + 1);
  const plain = await entry(person);
  const found = entryCertificates([e1, e2, plain], () => false);
  assert.equal(found.length, 1, "one per author; the person key's entry carries none");
  assert.deepEqual(found[0]!.cert.publicKey, phone.publicKey);
  assert.equal(found[0]!.at, NOW, "judged at the entry's own time");
  assert.deepEqual(entryCertificates([e1], () => true), [], "a known author is not looked at");
  // At most MAX_LEARNT_PER_PUSH new authors per push, each one signature check later.
  const many = await Promise.all(
    Array.from(
      { length: MAX_LEARNT_PER_PUSH + 2 },
      async (_, i) => entry(await device(person, `d${i}`)),
    ),
  );
  assert.equal(entryCertificates(many, () => false).length, MAX_LEARNT_PER_PUSH);
});

Deno.test("admitsEntry: the chat's people always; a device by whether it spoke for its person at the entry's time", async () => {
  const person = await createSigner(await generateKeyPair("alice"));
  const phone = await device(person, "phone");
  const bob = await createSigner(await generateKeyPair("bob"));
  const byPhone = await entry(phone, NOW + 5);
  assert.equal(admitsEntry((await entry(bob)).signed, [bob.publicKey], () => false), true);
  const asked: number[] = [];
  assert.equal(
    admitsEntry(byPhone.signed, [bob.publicKey, undefined], (_k, at) => (asked.push(at), false)),
    false,
  );
  assert.deepEqual(asked, [NOW + 5]);
  assert.equal(admitsEntry(byPhone.signed, [], () => true), true);
  assert.equal(
    admitsEntry(new Uint8Array([1, 2, 3]), [], () => false),
    true,
    "the merge refuses it",
  );
});

Deno.test("Redial: 1 s, then doubling to the cap, one timer per key; a key that answered starts again from 1 s", async () => {
  const clock = new FakeClock({ start: 0 });
  const waits: number[] = [];
  let from = 0;
  const r = new Redial(clock, () => {
    waits.push(clock.now() - from);
  }, 4000);
  const next = async () => {
    from = clock.now();
    r.schedule("a");
    r.schedule("a"); // one timer per key
    await clock.advance(5000);
  };
  for (let i = 0; i < 4; i++) await next();
  r.reached("a");
  await next();
  const bases = [1000, 2000, 4000, 4000, 1000];
  assert.equal(waits.length, bases.length);
  waits.forEach((w, i) => assert.ok(w >= bases[i]! * 0.75 && w <= bases[i]! * 1.25, `${w}`));
  r.schedule("b");
  r.close();
  await clock.advance(10_000);
  assert.equal(waits.length, bases.length, "nothing after close");
  assert.equal(clock.pending, 0);
});
