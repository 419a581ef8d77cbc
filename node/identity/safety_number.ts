/**
 * Safety numbers: a code two contacts read to each other (or scan) to check
 * that each holds the other's real key, as Signal's safety numbers do.
 *
 * Each key gets 30 digits: SHA-512 iterated 5200 times over
 * `SAFETY_NUMBER_LABEL || key` (the first round) and `digest || key` (the
 * others), the first 30 bytes read as six 40-bit big-endian numbers, each
 * taken mod 100,000 and written as 5 digits. The code is the two halves, the
 * smaller first, so both sides compute the same 60 digits whoever asks: 12
 * groups of 5, about 199 bits in all (~100 per key), and the iterations make
 * a key whose half matches a chosen one cost 5200 hashes per try on top of
 * ~2^99 tries. 60 digits, not fewer: a short code can be matched by a key
 * ground for it; this one is read in a minute, or scanned as a QR code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatSafetyNumber, safetyNumber } from "./safety_number.ts";
 *
 * const a = new Uint8Array(32).fill(1), b = new Uint8Array(32).fill(2);
 * assert.equal(safetyNumber(a, b), safetyNumber(b, a));
 * assert.equal(formatSafetyNumber(safetyNumber(a, b)).split(" ").length, 12);
 * ```
 *
 * @module
 */
import { sha512 } from "@noble/hashes/sha2.js";
import { SAFETY_NUMBER_LABEL } from "./labels.ts";

/** Rounds of SHA-512 per key (Signal's count). */
export const SAFETY_NUMBER_ITERATIONS = 5200;
/** Digits in a safety number: 30 per key. */
export const SAFETY_NUMBER_DIGITS = 60;

const label = new TextEncoder().encode(SAFETY_NUMBER_LABEL);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The 30 digits of one ed25519 public key. @throws {RangeError} for a key not 32 bytes long. */
export function keyDigits(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new RangeError(`a key is 32 bytes, got ${publicKey.length}`);
  let digest = sha512(concat(label, publicKey));
  for (let i = 1; i < SAFETY_NUMBER_ITERATIONS; i++) digest = sha512(concat(digest, publicKey));
  let out = "";
  for (let i = 0; i < 30; i += 5) {
    let n = 0;
    for (let j = 0; j < 5; j++) n = n * 256 + digest[i + j]!;
    out += String(n % 100_000).padStart(5, "0");
  }
  return out;
}

/**
 * The 60-digit safety number of two keys, the same in either order.
 * @throws {RangeError} for a key not 32 bytes long.
 */
export function safetyNumber(a: Uint8Array, b: Uint8Array): string {
  const [x, y] = [keyDigits(a), keyDigits(b)].sort();
  return x! + y!;
}

/** "12345 67890 …": the digits in groups of five, as people read them out. */
export function formatSafetyNumber(digits: string): string {
  return digits.match(/.{1,5}/g)?.join(" ") ?? "";
}
