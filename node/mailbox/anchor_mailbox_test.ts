import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { tempStore } from "../../testing/temp.ts";
import { AnchorMailbox, type AnchorMailboxNote } from "./anchor_mailbox.ts";
import { MailboxStore } from "./mailbox_store.ts";

Deno.test("anchor mailbox: boxes are swept on the clock given, once past their age limit", async () => {
  await using t = await tempStore();
  const clock = new FakeClock({ start: 1_800_000_000_000 });
  const store = await MailboxStore.open(t.store, { ttlMs: 3_600_000 });
  await store.put(new Uint8Array(32).fill(1), "ab".repeat(16), [{
    id: "0".repeat(32),
    box: new Uint8Array(64),
  }], clock.now());
  let swept!: () => void;
  const sweptSome = new Promise<void>((resolve) => (swept = resolve));
  const notes: AnchorMailboxNote[] = [];
  const mailbox = new AnchorMailbox(store, {
    clock,
    log: () => swept(),
    note: (n) => notes.push(n),
    name: () => "x",
  });
  try {
    mailbox.startSweeping(600_000);
    await clock.advance(3_000_000); // five sweeps, each too early
    // Sweeps run in turn: this one follows the timers' and, like them, finds nothing due.
    assert.equal(await store.sweep(clock.now()), 0);
    assert.equal(store.usage.boxes, 1);
    await clock.advance(600_000); // the sixth: the box is an hour old
    await sweptSome;
    assert.equal(store.usage.boxes, 0);
    assert.deepEqual(notes, [{ op: "expired", boxes: 1 }]);
  } finally {
    mailbox.close();
  }
  assert.equal(clock.pending, 0, "close stops the sweeps");
});

Deno.test("mailbox store: a fetch after the largest safe box number finds nothing, and does not throw", async () => {
  await using t = await tempStore();
  const store = await MailboxStore.open(t.store, { ttlMs: 3_600_000 });
  const tag = "ab".repeat(16);
  await store.put(
    new Uint8Array(32).fill(1),
    tag,
    [{ id: "0".repeat(32), box: new Uint8Array(8) }],
    1,
  );
  for (const after of [2 ** 53 - 2, 2 ** 53 - 1]) {
    const r = await store.fetch(tag, after, 10, 2);
    assert.deepEqual([r.items, r.more], [[], false], `after ${after}`);
  }
  assert.equal((await store.fetch(tag, 0, 10, 2)).items.length, 1);
});
