import assert from "node:assert/strict";
import { dueEpochs, type DueQuery, GRACE_MS, retireCursors } from "./epoch_cursor.ts";
import type { MailEpoch } from "./mail_epoch.ts";

const epoch = (id: string): MailEpoch =>
  ({ id, lamport: 0, author: new Uint8Array(32), keys: { tag: `tag-${id}` } }) as MailEpoch;
const [e1, e2, e3, e4] = ["e1", "e2", "e3", "e4"].map(epoch) as [
  MailEpoch,
  MailEpoch,
  MailEpoch,
  MailEpoch,
];
const NOW = 1_800_000_000_000;
const ids = (eps: MailEpoch[]) => eps.map((e) => e.id);

const query = (q: Partial<DueQuery>): DueQuery => ({
  epochs: [e1, e2, e3, e4],
  startedAt: "e4",
  notified: new Set(),
  first: false,
  cursors: {},
  done: new Set(),
  now: NOW,
  ...q,
});

Deno.test("mailbox epochs due: the current one; on a first visit also the one before and those in their grace", () => {
  assert.deepEqual(ids(dueEpochs(query({}))), ["e4"]);
  assert.deepEqual(ids(dueEpochs(query({ notified: new Set(["tag-e2"]) }))), ["e2", "e4"]);
  const cursors = {
    e1: { gen: "g", after: 5, ended: NOW - GRACE_MS }, // its grace is over
    e2: { gen: "g", after: 9, ended: NOW - GRACE_MS + 1 },
  };
  assert.deepEqual(ids(dueEpochs(query({ first: true, cursors }))), ["e2", "e3", "e4"]);
  // Epochs that came in during the visit are due; those fetched in it are not again.
  const later = query({ startedAt: "e2", done: new Set(["e2"]) });
  assert.deepEqual(ids(dueEpochs(later)), ["e3", "e4"]);
});

Deno.test("mailbox cursors: a past epoch's end is noted once, its cursor dropped after the grace", () => {
  const cursors = {
    e1: { gen: "g", after: 1 }, // no longer held here
    e3: { gen: "g", after: 3 }, // just stopped being current
    e4: { gen: "g", after: 4, ended: NOW - 10 }, // current again
  };
  const held = [e2, e3, e4];
  const once = retireCursors(cursors, held, NOW);
  assert.deepEqual(once, { e3: { gen: "g", after: 3, ended: NOW }, e4: { gen: "g", after: 4 } });
  assert.deepEqual(
    retireCursors(once, held, NOW + GRACE_MS - 1),
    once,
    "the end stays as first seen",
  );
  assert.deepEqual(retireCursors(once, held, NOW + GRACE_MS), { e4: { gen: "g", after: 4 } });
  assert.equal(cursors.e3.after, 3, "the input is not changed");
});
