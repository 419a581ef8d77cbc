/**
 * Safety numbers: a golden vector (computed independently with Python's
 * hashlib from the layout in safety_number.ts), order independence, and that
 * any change of either key changes the code.
 */
import assert from "node:assert/strict";
import {
  formatSafetyNumber,
  keyDigits,
  SAFETY_NUMBER_DIGITS,
  safetyNumber,
} from "./safety_number.ts";

const A = Uint8Array.from({ length: 32 }, (_, i) => i); // 00 01 … 1f
const B = Uint8Array.from({ length: 32 }, (_, i) => 32 + i); // 20 21 … 3f

Deno.test("golden vector: each key's 30 digits and the 60-digit code", () => {
  assert.equal(keyDigits(A), "504237333799237327684160684308");
  assert.equal(keyDigits(B), "895480571581363060722527596955");
  assert.equal(
    safetyNumber(A, B),
    "504237333799237327684160684308895480571581363060722527596955",
  );
  assert.equal(
    formatSafetyNumber(safetyNumber(A, B)),
    "50423 73337 99237 32768 41606 84308 89548 05715 81363 06072 25275 96955",
  );
});

Deno.test("both sides compute the same code; it has 60 digits", () => {
  assert.equal(safetyNumber(A, B), safetyNumber(B, A));
  assert.match(safetyNumber(A, B), new RegExp(`^\\d{${SAFETY_NUMBER_DIGITS}}$`));
});

Deno.test("a key changed in one bit changes the code", () => {
  const other = A.slice();
  other[31]! ^= 1;
  assert.notEqual(safetyNumber(other, B), safetyNumber(A, B));
});

Deno.test("a key of the wrong length is a RangeError", () => {
  assert.throws(() => keyDigits(new Uint8Array(31)), RangeError);
});
