import assert from "node:assert/strict";
import { FakeClock, settle } from "../clock/mod.ts";
import { keys } from "../store/mod.ts";
import { tempStore } from "../../testing/temp.ts";
import { DeliveryMarks } from "./delivery_marks.ts";

const bob = new Uint8Array(32).fill(7);
const carol = new Uint8Array(32).fill(9);

Deno.test("delivery marks only move forward, are written later in one batch, and read back", async () => {
  await using t = await tempStore();
  await t.store.kv.set(keys.delivered("chat-a", bob), 3);
  const marks = new DeliveryMarks(t.store.kv, { delayMs: 60_000 });
  assert.equal(await marks.get("chat-a", bob), 3, "read from the store");
  assert.equal(await marks.get("chat-b", bob), 0);
  // Concurrent raises: only the ones that move the mark say so.
  const moved = await Promise.all([
    marks.raise("chat-a", bob, 2),
    marks.raise("chat-a", bob, 5),
    marks.raise("chat-a", bob, 4),
    marks.raise("chat-b", carol, 1),
  ]);
  assert.deepEqual(moved, [false, true, false, true]);
  assert.equal(await marks.raise("chat-a", bob, 5), false);
  assert.equal(await marks.get("chat-a", bob), 5);
  assert.equal((await t.store.kv.get(keys.delivered("chat-a", bob))).value, 3, "not written yet");
  await marks.flush();
  assert.equal((await t.store.kv.get(keys.delivered("chat-a", bob))).value, 5);
  assert.equal((await t.store.kv.get(keys.delivered("chat-b", carol))).value, 1);
  assert.equal(await marks.raise("chat-a", bob, 8), true);
  await marks.close(); // writes what is pending
  const again = new DeliveryMarks(t.store.kv);
  assert.equal(await again.get("chat-a", bob), 8);
  assert.equal(await again.get("chat-b", carol), 1);
  await again.close();
});

Deno.test("a moved delivery mark is written by itself after the delay", async () => {
  await using t = await tempStore();
  const clock = new FakeClock();
  const marks = new DeliveryMarks(t.store.kv, { delayMs: 100, clock });
  assert.equal(await marks.raise("chat-a", bob, 2), true);
  assert.equal(await marks.raise("chat-a", carol, 4), true);
  assert.equal(clock.pending, 1, "one write for both marks");
  await clock.advance(99);
  assert.equal((await t.store.kv.get(keys.delivered("chat-a", bob))).value, null);
  await clock.advance(1);
  assert.equal(clock.pending, 0, "the timer ran");
  const written = async () => (await t.store.kv.get(keys.delivered("chat-a", bob))).value === 2;
  for (let i = 0; i < 1000 && !await written(); i++) await settle();
  assert.ok(await written(), "the timer's write landed");
  assert.equal((await t.store.kv.get(keys.delivered("chat-a", carol))).value, 4);
  await marks.close();
});
