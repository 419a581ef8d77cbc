import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { IndexQueue, MAX_HELD, MAX_WAIT_MS, QUIET_MS, SLICE } from "./index_queue.ts";
import type { SearchDoc } from "./query.ts";
import { SearchIndex } from "./search_index.ts";

const doc = (id: string, text = `word${id}`): SearchDoc => ({
  id,
  chat: "c",
  author: "bob",
  authorFingerprint: "SHA256:x",
  mine: false,
  seq: 1,
  lamport: 1,
  ts: 1,
  text,
});

Deno.test("index queue: held while messages come, applied once they stop, in order", async () => {
  const clock = new FakeClock();
  const index = new SearchIndex();
  const q = new IndexQueue(index, clock);
  q.add(doc("a", "rope"));
  await clock.advance(QUIET_MS - 1);
  q.add(doc("b", "rope"));
  await clock.advance(QUIET_MS - 1);
  assert.equal(index.size, 0, "still coming: nothing applied");
  // An edit: the old text goes, the new one comes, after what was held before it.
  q.add(doc("a", "harness"), "a");
  await clock.advance(QUIET_MS);
  assert.equal(q.held, 0);
  assert.deepEqual(index.search({ text: "rope" }).hits.map((h) => h.doc.id), ["b"]);
  assert.deepEqual(index.search({ text: "harness" }).hits.map((h) => h.doc.id), ["a"]);
  assert.equal(clock.pending, 0, "no timer left");
  q.close();
});

Deno.test("index queue: flush applies everything at once (a search); busy nodes wait at most MAX_WAIT_MS", async () => {
  const clock = new FakeClock();
  const index = new SearchIndex();
  const q = new IndexQueue(index, clock);
  q.add(doc("a"));
  q.add(null, "nothing");
  q.flush();
  assert.equal(index.size, 1);
  // A change every 100 ms never leaves QUIET_MS of quiet: still applied by MAX_WAIT_MS.
  for (let i = 0; i < MAX_WAIT_MS / 100 + 2; i++) {
    q.add(doc(`b${i}`));
    await clock.advance(100);
  }
  assert.ok(index.size > 1, "applied within the longest wait");
  q.close();
  assert.equal(clock.pending, 0);
  q.add(doc("late"));
  assert.equal(q.held, 0, "nothing is held after close");
});

Deno.test("index queue: bounded, and applied in slices", async () => {
  const clock = new FakeClock();
  const index = new SearchIndex();
  const q = new IndexQueue(index, clock);
  for (let i = 0; i < MAX_HELD; i++) q.add(doc(String(i), "x"));
  assert.equal(q.held, 0, "at MAX_HELD everything is applied there and then");
  assert.equal(index.size, MAX_HELD);
  for (let i = 0; i < SLICE + 10; i++) q.add(doc(`s${i}`, "y"));
  const fired = clock.fired;
  await clock.advance(QUIET_MS);
  assert.equal(q.held, 0);
  assert.equal(clock.fired - fired, 2, "one slice per turn of the loop: two turns");
  q.close();
});
