import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { GroupMailbox } from "./group_mailbox.ts";
import type { GroupMailboxHost } from "./visit_context.ts";

/** A member in no group: a visit does nothing, so only the timing of hand-overs shows. */
function lonely(clock: FakeClock): GroupMailboxHost {
  return {
    clock,
    keyPair: { publicKey: new Uint8Array(32) },
    groups: { all: () => [], get: () => undefined },
  } as unknown as GroupMailboxHost;
}

Deno.test("group mailbox: received entries are handed over 1.5 s later, once per group; idle waits for it", async () => {
  const clock = new FakeClock({ start: 0 });
  const mailbox = new GroupMailbox(lonely(clock));
  mailbox.received("g-1");
  mailbox.received("g-1");
  mailbox.received("g-2");
  assert.equal(clock.pending, 2, "one hand-over per group");
  let idle = false;
  const waiting = mailbox.idle().then(() => (idle = true));
  await clock.advance(1499);
  assert.equal(idle, false);
  await clock.advance(1);
  await waiting;
  assert.equal(clock.pending, 0);

  // Entries that just came in are due for a hand-over before received() is called for them.
  mailbox.due("g-3");
  let quiet = false;
  const due = mailbox.idle().then(() => (quiet = true));
  await clock.advance(5000);
  assert.equal(quiet, false, "idle waits for a due hand-over");
  mailbox.received("g-3");
  await clock.advance(1500);
  await due;

  mailbox.due("g-4");
  mailbox.received("g-1");
  const closing = mailbox.idle();
  mailbox.close();
  await closing;
  assert.equal(clock.pending, 0, "close cancels what waits");
  mailbox.received("g-1");
  assert.equal(clock.pending, 0, "nothing is handed over once closed");
});
