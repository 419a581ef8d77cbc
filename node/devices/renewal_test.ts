import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { createSigner, generateKeyPair, type Signer } from "../identity/mod.ts";
import { certifyDevice } from "./device_certificate.ts";
import { isRenewalOf, planRenewals, renewedValidity } from "./renewal.ts";

const DAY = 86_400_000;
const START = Date.UTC(2026, 11, 3, 12);

async function cert(person: Signer, name: string, from: number, days: number, key?: Uint8Array) {
  return await certifyDevice(person, {
    deviceKey: key ?? (await generateKeyPair(name)).publicKey,
    name,
    validFrom: from,
    validUntil: from + days * DAY,
    serial: 1n,
    nonce: new Uint8Array(32),
  });
}

Deno.test("planRenewals, as a FakeClock moves on: due from 14 days before the end, never when revoked", async () => {
  const alice = await createSigner(await generateKeyPair("alice"));
  const clock = new FakeClock({ start: START });
  const phone = await cert(alice, "phone", START, 90);
  const tablet = await cert(alice, "tablet", START, 30);
  const lost = await cert(alice, "lost", START, 20);
  const all = [
    { certificate: phone, revoked: false },
    { certificate: tablet, revoked: false },
    { certificate: lost, revoked: true },
  ];
  const plan = () => planRenewals(all, clock.now());
  assert.deepEqual(plan(), { due: [], next: START + 16 * DAY });
  await clock.advance(16 * DAY - 1);
  assert.deepEqual(plan().due, []);
  await clock.advance(1);
  assert.deepEqual(plan(), { due: [tablet], next: START + 76 * DAY });
  // Past its end, still the person's until removed: still due.
  await clock.advance(20 * DAY);
  assert.deepEqual(plan().due, [tablet]);
  await clock.advance(60 * DAY);
  assert.deepEqual(plan(), { due: [phone, tablet], next: null });
  assert.deepEqual(planRenewals([], clock.now()), { due: [], next: null });
});

Deno.test("a renewal: 90 days from now, never ending before the old one; the same key and name, ending later", async () => {
  const alice = await createSigner(await generateKeyPair("alice"));
  const key = (await generateKeyPair("phone")).publicKey;
  const old = await cert(alice, "phone", START, 90, key);
  const now = START + 80 * DAY;
  const w = renewedValidity(old, now);
  assert.equal(w.validUntil, now + 90 * DAY);
  assert.ok(w.validFrom < now);
  // A long first certificate: the renewal does not cut it short.
  const long = await cert(alice, "phone", START, 400, key);
  assert.ok(renewedValidity(long, now).validUntil > long.validBefore * 1000);
  const renewed = await certifyDevice(alice, {
    deviceKey: key,
    name: "phone",
    ...w,
    serial: 2n,
    nonce: new Uint8Array(32),
  });
  assert.ok(isRenewalOf(renewed, old));
  assert.ok(!isRenewalOf(old, renewed), "an older one is no renewal");
  assert.ok(!isRenewalOf(await cert(alice, "phone", now, 90), old), "another key");
  assert.ok(!isRenewalOf(await cert(alice, "tablet", now, 90, key), old), "another name");
});
