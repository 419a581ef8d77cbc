import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { tempStore } from "../../testing/temp.ts";
import { InviteRegistry } from "./invite_registry.ts";

Deno.test("invite registry: an invite is valid until it expires or its uses run out, on the clock given", async () => {
  await using t = await tempStore();
  const clock = new FakeClock({ start: 1_800_000_000_000 });
  const reg = await InviteRegistry.open(t.store, clock.now(), clock);
  await reg.issue("aa", clock.now() + 60_000, 2);
  await reg.issue("bb", clock.now() + 60_000, 1);
  assert.ok(reg.isValid("aa", clock.now()));
  assert.ok(await reg.consume("bb", clock.now()));
  assert.ok(!reg.isValid("bb", clock.now()), "its one use is spent");
  assert.ok(!await reg.consume("bb", clock.now()));

  await clock.advance(59_999);
  assert.ok(await reg.consume("aa", clock.now()));
  await clock.advance(1);
  assert.ok(!reg.isValid("aa", clock.now()), "expired");
  assert.ok(!await reg.consume("aa", clock.now()));
  // A registry opened later holds only what is still usable then.
  const reopened = await InviteRegistry.open(t.store, clock.now() - 1, clock);
  assert.ok(reopened.isValid("aa", clock.now() - 1));
  assert.ok(!reopened.isValid("bb", clock.now() - 1));
  assert.ok(!(await InviteRegistry.open(t.store, clock.now(), clock)).isValid("aa", clock.now()));
});

Deno.test("invite registry: a sibling's record merges as the fewer uses and the earlier end, and is told", async () => {
  await using t = await tempStore();
  const clock = new FakeClock({ start: 1_800_000_000_000 });
  const reg = await InviteRegistry.open(t.store, clock.now(), clock);
  const told: string[] = [];
  reg.onChange((r) => told.push(`${r.nonce}:${r.usesLeft}`));
  const end = clock.now() + 60_000;
  const nonce = "ab".repeat(16);
  // Issued on the other device: usable here.
  assert.ok(await reg.merge({ nonce, expires: end, usesLeft: 2 }, clock.now()));
  assert.ok(reg.isValid(nonce, clock.now()));
  assert.deepEqual(reg.live(clock.now()), [{ nonce, expires: end, usesLeft: 2 }]);
  // The same again, or more uses: no news.
  assert.ok(!await reg.merge({ nonce, expires: end, usesLeft: 2 }, clock.now()));
  assert.ok(!await reg.merge({ nonce, expires: end + 1, usesLeft: 5 }, clock.now()));
  // Used once there: one left here.
  assert.ok(await reg.merge({ nonce, expires: end, usesLeft: 1 }, clock.now()));
  assert.ok(await reg.consume(nonce, clock.now()));
  assert.ok(!reg.isValid(nonce, clock.now()), "used up across both devices");
  // Already expired or used up, and unknown here: not recorded.
  assert.ok(!await reg.merge({ nonce: "cd".repeat(16), expires: end, usesLeft: 0 }, clock.now()));
  assert.ok(!await reg.merge({ nonce: "ef".repeat(16), expires: 1, usesLeft: 1 }, clock.now()));
  // Withdrawn: no use left, and told.
  await reg.issue("01".repeat(16), end, 3);
  assert.ok(await reg.withdraw("01".repeat(16), clock.now()));
  assert.ok(!reg.isValid("01".repeat(16), clock.now()));
  assert.ok(!await reg.withdraw("01".repeat(16), clock.now()), "nothing left to withdraw");
  assert.deepEqual(told, [
    `${nonce}:2`,
    `${nonce}:1`,
    `${nonce}:0`,
    `${"01".repeat(16)}:3`,
    `${"01".repeat(16)}:0`,
  ]);
  // Every record still held goes to a sibling, used up ones too.
  assert.deepEqual((await reg.records()).map((r) => `${r.nonce}:${r.usesLeft}`).sort(), [
    `${"01".repeat(16)}:0`,
    `${nonce}:0`,
  ]);
  // Reopened: the merged record holds.
  const reopened = await InviteRegistry.open(t.store, clock.now(), clock);
  assert.ok(!reopened.isValid(nonce, clock.now()));
});

Deno.test("invite registry: a revoked device's invites are refused at once, then withdrawn and told", async () => {
  await using t = await tempStore();
  const clock = new FakeClock({ start: 1_800_000_000_000 });
  const reg = await InviteRegistry.open(t.store, clock.now(), clock);
  const phone = "11".repeat(32), tablet = "22".repeat(32);
  await reg.issue("aa", clock.now() + 60_000, 2, phone);
  await reg.issue("bb", clock.now() + 60_000, 2, tablet);
  await reg.issue("cc", clock.now() + 60_000, 2); // the person key's node's own
  // A sibling's record never drops the issuer once known, and teaches one not known.
  assert.ok(
    await reg.merge({ nonce: "aa", expires: clock.now() + 60_000, usesLeft: 1 }, clock.now()),
  );
  assert.ok(
    await reg.merge(
      { nonce: "dd", expires: clock.now() + 60_000, usesLeft: 1, by: phone },
      clock.now(),
    ),
  );
  assert.deepEqual((await reg.records()).filter((r) => r.by === phone).map((r) => r.nonce).sort(), [
    "aa",
    "dd",
  ]);
  const told: string[] = [];
  reg.onChange((r) => told.push(`${r.nonce}:${r.usesLeft}`));
  reg.refuseRevoked((by) => by === phone);
  assert.ok(!reg.isValid("aa", clock.now()) && !reg.isValid("dd", clock.now()));
  assert.ok(!await reg.consume("aa", clock.now()), "refused before it is withdrawn");
  assert.ok(reg.isValid("bb", clock.now()) && reg.isValid("cc", clock.now()));
  assert.equal(await reg.withdrawRevoked(clock.now()), 2);
  assert.deepEqual(told.sort(), ["aa:0", "dd:0"]);
  assert.equal(await reg.withdrawRevoked(clock.now()), 0, "once");
});
