/**
 * Opening XChaCha20-Poly1305 boxes, with the runtime's ChaCha20-Poly1305
 * where it has one. A group catch-up opens two small boxes per entry (the
 * mailbox box, then the message), and @noble/ciphers spends about 30 µs on
 * each, most of it per-call setup; node:crypto's cipher after a HChaCha20
 * subkey from noble takes about 60% of that (4,000 boxes of 60 and 400 bytes:
 * 78 ms of CPU against 123 ms, medians of 5).
 *
 * The construction is the usual one (draft-irtf-cfrg-xchacha):
 *   subkey = HChaCha20(key, nonce[0..16])
 *   open   = ChaCha20-Poly1305(subkey, 0x00000000 || nonce[16..24], aad)
 * so boxes sealed with noble's xchacha20poly1305 open here and the other way
 * round. At load, the native path must open a noble box and refuse a forged
 * one, else noble opens everything.
 */
import { hchacha, xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { createDecipheriv } from "node:crypto";

const TAG_BYTES = 16;
/** "expand 32-byte k" */
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

/** `bytes` as little-endian words (a copy, so any alignment will do). */
function words(bytes: Uint8Array): Uint32Array {
  return new Uint32Array(bytes.slice().buffer);
}

function openNative(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
): Uint8Array {
  if (key.length !== 32 || nonce.length !== 24 || sealed.length < TAG_BYTES) {
    throw new Error("xchacha20poly1305: bad key, nonce or box length");
  }
  const subkey = new Uint32Array(8);
  hchacha(SIGMA, words(key), words(nonce.subarray(0, 16)), subkey);
  const iv = new Uint8Array(12);
  iv.set(nonce.subarray(16, 24), 4);
  const body = sealed.length - TAG_BYTES;
  const d = createDecipheriv("chacha20-poly1305", new Uint8Array(subkey.buffer), iv, {
    authTagLength: TAG_BYTES,
  });
  d.setAAD(aad, { plaintextLength: body });
  d.setAuthTag(sealed.subarray(body));
  const plain = d.update(sealed.subarray(0, body));
  d.final(); // throws when the tag does not match: nothing is returned then
  // A copy: node:crypto may hand out a view of a shared pool.
  return new Uint8Array(plain);
}

function openNoble(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
): Uint8Array {
  return xchacha20poly1305(key, nonce, aad).decrypt(sealed);
}

/** Whether the native path opens what noble seals, and refuses what is forged. */
function nativeWorks(): boolean {
  try {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const nonce = crypto.getRandomValues(new Uint8Array(24));
    const aad = new Uint8Array([1, 2, 3]);
    const plain = crypto.getRandomValues(new Uint8Array(100));
    const sealed = xchacha20poly1305(key, nonce, aad).encrypt(plain);
    const opened = openNative(key, nonce, aad, sealed);
    if (opened.length !== plain.length || opened.some((b, i) => b !== plain[i])) return false;
    const forged = sealed.slice();
    forged[forged.length - 1]! ^= 1;
    try {
      openNative(key, nonce, aad, forged);
      return false;
    } catch {
      return true;
    }
  } catch {
    return false;
  }
}

/** Whether boxes are opened by the runtime's cipher (else by @noble/ciphers). */
export const XCHACHA_NATIVE = nativeWorks();

/**
 * Opens an XChaCha20-Poly1305 box (ciphertext || 16-byte tag) sealed with
 * `key`, the 24-byte `nonce` and `aad`.
 * @throws {Error} when it does not open (wrong key, nonce or aad, or altered).
 */
export const openXChaCha20Poly1305: (
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
) => Uint8Array = XCHACHA_NATIVE ? openNative : openNoble;
