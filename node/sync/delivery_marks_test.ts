import assert from "node:assert/strict";
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
  const marks = new DeliveryMarks(t.store.kv, { delayMs: 5 });
  assert.equal(await marks.raise("chat-a", bob, 2), true);
  const until = Date.now() + 5_000;
  while ((await t.store.kv.get(keys.delivered("chat-a", bob))).value !== 2) {
    assert.ok(Date.now() < until, "the mark was written");
    await new Promise((r) => setTimeout(r, 10));
  }
  await marks.close();
});
