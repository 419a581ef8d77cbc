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
