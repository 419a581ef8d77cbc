import assert from "node:assert/strict";
import { escapeControl, escapeLines, jsonLine } from "./mod.ts";

Deno.test("escapeControl keeps text on one line and no control character raw", () => {
  assert.equal(
    escapeControl("a\u001b[2Jb\u009bc\u202ed\te\r\nf\u2028g\u061ch\u0000"),
    "a\\x1b[2Jb\\x9bc\\u202ed\te\\x0d\\nf\\u2028g\\u061ch\\x00",
  );
  // A forged log line stays inside the line it was printed in.
  assert.equal(escapeControl("hi\n10:00:00 connected to mallory").split("\n").length, 1);
  // Letters of every script, emoji and tabs pass as they are.
  assert.equal(escapeControl("Zoë 王 🐝\tok"), "Zoë 王 🐝\tok");
});

Deno.test("escapeControl leaves no character a terminal acts on, and escaping twice changes nothing", () => {
  for (let code = 0; code < 0x2100; code++) {
    const c = String.fromCharCode(code);
    const out = escapeControl(`x${c}y`);
    // deno-lint-ignore no-control-regex
    assert.ok(!/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(out));
    assert.equal(escapeControl(out), out);
  }
});

Deno.test("escapeLines escapes each line and indents the ones after the first", () => {
  assert.equal(
    escapeLines("hi\n10:00:00 connected to mallory\n\u001b[31mred", "    "),
    "hi\n    10:00:00 connected to mallory\n    \\x1b[31mred",
  );
  assert.equal(escapeLines("one line", "  "), "one line");
});

Deno.test("jsonLine reads back as the same value, with C1 and bidi controls escaped", () => {
  const value = { name: "\u001b]0;owned\u0007\u009b31m\u202e\u2028", n: 1 };
  const text = jsonLine(value);
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2028\u2029]/.test(text), text);
  assert.deepEqual(JSON.parse(text), value);
  assert.equal(jsonLine(undefined), "null");
});
