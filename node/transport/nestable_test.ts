/**
 * A channel carrying another SSH session (_ssh_streams.ts nestable): what the
 * carried session writes in one run reaches the channel as one write, a
 * microtask later (never synchronously: see nestable), in order; and a
 * channel backed up holds the writer back until it drains.
 */
import assert from "node:assert/strict";
import { Duplex, PassThrough, Writable } from "node:stream";
import { nestable } from "./_ssh_streams.ts";

/** A channel that records each write it gets, and is backed up while `full`. */
function recordingChannel() {
  const writes: Uint8Array[] = [];
  let full = false;
  let release: (() => void) | null = null;
  const ch = new Duplex({
    highWaterMark: 16,
    read() {},
    write(chunk: Uint8Array, _enc, done) {
      writes.push(new Uint8Array(chunk));
      if (full) release = done;
      else done();
    },
  });
  return {
    ch,
    writes,
    fill: () => (full = true),
    drain: () => {
      full = false;
      release?.();
    },
  };
}

Deno.test("nestable: one run's writes reach the channel as one write, a microtask later, in order", async () => {
  const { ch, writes } = recordingChannel();
  const carried = nestable(ch);
  for (const piece of [[1, 2, 3, 4], [5, 6], [7]]) carried.write(new Uint8Array(piece));
  assert.equal(writes.length, 0, "not in the same run");
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(writes, [new Uint8Array([1, 2, 3, 4, 5, 6, 7])]);
  carried.write(new Uint8Array([8]));
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(writes.at(-1), new Uint8Array([8]));
  carried.destroy();
});

Deno.test("nestable: a backed-up channel holds the writer back until it drains", async () => {
  const { ch, writes, fill, drain } = recordingChannel();
  const carried = nestable(ch);
  fill();
  carried.write(new Uint8Array(64)); // over the channel's 16-byte mark once flushed
  await new Promise((r) => setTimeout(r, 0)); // the flush is a microtask: done by now
  const order: string[] = [];
  const taken = new Promise<void>((resolve) =>
    carried.write(new Uint8Array([1]), () => (order.push("taken"), resolve()))
  );
  await new Promise((r) => setTimeout(r, 0));
  order.push("drained");
  drain();
  await taken;
  assert.deepEqual(order, ["drained", "taken"], "held until the channel drained");
  assert.equal(writes.reduce((n, w) => n + w.length, 0), 65);
  carried.destroy();
});

Deno.test("nestable: what the channel reads comes out copied, and its end ends it", async () => {
  const ch = new PassThrough();
  const carried = nestable(ch);
  const got: Uint8Array[] = [];
  const sink = new Writable({
    write(chunk: Uint8Array, _enc, done) {
      got.push(chunk);
      done();
    },
  });
  const ended = new Promise((r) => carried.on("end", r));
  carried.pipe(sink);
  const bytes = new Uint8Array([9, 8, 7]);
  ch.push(bytes);
  ch.push(null);
  await ended;
  assert.deepEqual(got.map((c) => new Uint8Array(c)), [bytes]);
  assert.notEqual(got[0]!.buffer, bytes.buffer, "a copy, not the channel's buffer");
});
