import assert from "node:assert/strict";
import { LineSplitter } from "./protocol.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (lines: Uint8Array[]) => lines.map((l) => dec.decode(l));

Deno.test("LineSplitter: lines across chunks, CRLF, empty lines", () => {
  const s = new LineSplitter(100);
  assert.deepEqual(text(s.push(enc.encode("ab"))), []);
  assert.equal(s.pending, 2);
  assert.deepEqual(text(s.push(enc.encode("c\r\nde\n\nf"))), ["abc", "de", ""]);
  assert.deepEqual(text(s.push(enc.encode("g\n"))), ["fg"]);
  assert.equal(s.pending, 0);
  assert.equal(s.overflow, false);
});

Deno.test("LineSplitter: a line of max bytes passes, one more byte overflows", () => {
  const s = new LineSplitter(4);
  assert.deepEqual(text(s.push(enc.encode("ab"))), []);
  assert.deepEqual(text(s.push(enc.encode("cd"))), []);
  assert.deepEqual(text(s.push(enc.encode("\nok\nabcde"))), ["abcd", "ok"]);
  assert.equal(s.overflow, true);
  assert.equal(s.pending, 0, "nothing held after overflow");
  assert.deepEqual(s.push(enc.encode("\nmore\n")), [], "no input taken after overflow");

  const t = new LineSplitter(4);
  assert.deepEqual(text(t.push(enc.encode("abc"))), []);
  assert.deepEqual(text(t.push(enc.encode("de\n"))), []);
  assert.equal(t.overflow, true);
  assert.throws(() => new LineSplitter(0), RangeError);
});
