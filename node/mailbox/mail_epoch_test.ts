import assert from "node:assert/strict";
import { fileUnder, type MailEpoch } from "./mail_epoch.ts";

const author = (n: number) => new Uint8Array(32).fill(n);
const epoch = (id: string, lamport: number, by: number) =>
  ({ id, lamport, author: author(by) }) as MailEpoch;

Deno.test("mailbox filing: under the newest epoch started at or before the entry; an epoch's first entry also under the one before", () => {
  const epochs = [epoch("a", 1, 1), epoch("b", 10, 2), epoch("c", 20, 1)];
  const under = (lamport: number, by: number) =>
    fileUnder(epochs, { lamport, author: author(by) }).map((e) => e.id);
  assert.deepEqual(under(0, 1), ["a"], "history from before we joined goes under the oldest");
  assert.deepEqual(under(9, 9), ["a"]);
  assert.deepEqual(under(10, 1), ["a"], "same clock, a smaller author: before b's start");
  assert.deepEqual(under(10, 2), ["b", "a"], "b's own first entry");
  assert.deepEqual(under(10, 3), ["b"]);
  assert.deepEqual(under(25, 1), ["c"]);
  assert.deepEqual(fileUnder([], { lamport: 1, author: author(1) }), []);
});
