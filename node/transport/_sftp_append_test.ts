import assert from "node:assert/strict";
import { AppendBuffer } from "./_sftp_append.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("AppendBuffer splits lines across writes, even inside a UTF-8 character", () => {
  const b = new AppendBuffer(10, { linesBefore: 3 });
  const bytes = enc("héllo\nwörld\n\n");
  const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of "é"
  const r1 = b.write(10, bytes.subarray(0, cut));
  assert.deepEqual(r1, { ok: true, lines: [] });
  const r2 = b.write(10 + cut, bytes.subarray(cut));
  assert.deepEqual(r2, {
    ok: true,
    lines: [{ line: "héllo", number: 4 }, { line: "wörld", number: 5 }],
  });
  assert.equal(b.received, bytes.length);
  assert.deepEqual(b.finish(), { ok: true, lines: ["héllo", "wörld"] });
});

Deno.test("AppendBuffer refuses gaps, overlaps, invalid UTF-8 and a missing last newline", () => {
  let b = new AppendBuffer(5);
  assert.equal(b.write(4, enc("a\n")).ok, false);
  assert.match(b.failure!, /only appending at the end is allowed \(write at 4, the end is 5\)/);
  assert.equal(b.write(5, enc("a\n")).ok, false, "stays failed");
  assert.equal(b.finish().ok, false);

  b = new AppendBuffer(0);
  assert.deepEqual(b.write(0, new Uint8Array([0x61, 0xff, 0x0a])), {
    ok: false,
    reason: "line 1 is not UTF-8",
  });

  b = new AppendBuffer(0);
  assert.equal(b.write(0, enc("ok\npartial")).ok, true);
  assert.deepEqual(b.finish(), { ok: false, reason: "line 2 does not end with a newline" });

  b = new AppendBuffer(0, { maxBytes: 4 });
  assert.equal(b.write(0, enc("abc\n")).ok, true);
  assert.deepEqual(b.write(4, enc("d")), {
    ok: false,
    reason: "one upload may append at most 4 bytes",
  });
});
