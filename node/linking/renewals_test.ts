import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { certifyDevice, RENEWAL_CHECK_MS } from "../devices/mod.ts";
import { type Certificate, createSigner, generateKeyPair } from "../identity/mod.ts";
import { RenewalTimer } from "./renewals.ts";

const DAY = 86_400_000;

Deno.test("RenewalTimer on a FakeClock: renews as a certificate falls due, retries hourly while it cannot", async () => {
  const clock = new FakeClock({ start: Date.UTC(2026, 11, 3) });
  const alice = await createSigner(await generateKeyPair("alice"));
  let current: Certificate = await certifyDevice(alice, {
    deviceKey: (await generateKeyPair("phone")).publicKey,
    name: "phone",
    validFrom: clock.now(),
    validUntil: clock.now() + 20 * DAY,
    serial: 1n,
    nonce: new Uint8Array(32),
  });
  const renewedAt: number[] = [];
  const blocked: string[] = [];
  let keyAtHand = false;
  const timer = new RenewalTimer({
    clock,
    candidates: () => [{ certificate: current, revoked: false }],
    renew: async (old) => {
      if (!keyAtHand) throw new Error("the person key is not at hand");
      renewedAt.push(clock.now());
      current = await certifyDevice(alice, {
        deviceKey: old.publicKey,
        name: old.keyId,
        validFrom: clock.now(),
        validUntil: clock.now() + 90 * DAY,
        serial: 2n,
        nonce: new Uint8Array(32),
      });
    },
    onBlocked: (_, why) => blocked.push(why),
  });
  const start = clock.now();
  timer.start();
  await clock.advance(0);
  assert.deepEqual(renewedAt, []);
  assert.equal(timer.blocked, null);
  // Due 6 days in (14 before its end): the key is not at hand, so it says why, and tries hourly.
  await clock.advance(6 * DAY);
  assert.deepEqual(blocked, ["the person key is not at hand"]);
  assert.equal(timer.blocked, "the person key is not at hand");
  await clock.advance(RENEWAL_CHECK_MS);
  assert.equal(blocked.length, 2);
  keyAtHand = true;
  await clock.advance(RENEWAL_CHECK_MS);
  assert.deepEqual(renewedAt, [start + 6 * DAY + 2 * RENEWAL_CHECK_MS]);
  assert.equal(timer.blocked, null);
  // The renewed one falls due 76 days after it was made, and is renewed then, once.
  await clock.advance(76 * DAY - 1);
  assert.equal(renewedAt.length, 1);
  await clock.advance(1);
  assert.equal(renewedAt.length, 2);
  timer.close();
  await clock.advance(200 * DAY);
  assert.equal(renewedAt.length, 2, "no timer runs after close");
});
