/**
 * Sealing to a key: encrypting a small payload (an address record, an invite)
 * so that only the holder of an ed25519 identity can open it. The ed25519 keys
 * are mapped to X25519 (RFC 7748 birational map) for an ephemeral-static ECDH.
 *
 *   sealed = 0x01 || eph (32) || nonce (12) || ChaCha20-Poly1305(key, nonce, aad)(plaintext)
 *
 *   recipient = X25519 public key of the recipient's ed25519 key, or the X25519
 *               key it published (an identity whose key is in ssh-agent, which
 *               cannot do this agreement: see agreementPublicKey)
 *   key       = HKDF-SHA256(ikm  = X25519(eph secret, recipient),
 *                           salt = eph || recipient,
 *                           info = "roj-seal-v1" || context, 32 bytes)
 *
 * `aad` is authenticated but not included; `context` (UTF-8, default "") binds
 * the sealed bytes to one purpose. Both must be the same to open as to seal.
 * Version history: 0x01 — this layout.
 */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { base64 } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import { RojError } from "../errors.ts";
import { concatBytes } from "./_util.ts";
import type { KeyPair } from "./keys.ts";
import { SEAL_INFO } from "./labels.ts";

/** Options for {@linkcode seal} and {@linkcode openSealed}. */
export interface SealOptions {
  /** Extra bytes authenticated with the payload but not carried in it. @default none */
  aad?: Uint8Array;
  /** A purpose label mixed into the key, e.g. "addr". @default "" */
  context?: string;
  /**
   * Seal to this X25519 key, which the recipient published (its key is in
   * ssh-agent). @default the X25519 form of its ed25519 key
   */
  to?: Uint8Array;
}

const VERSION = 0x01;
const NONCE_LEN = 12;
const TAG_LEN = 16;
const HEADER_LEN = 1 + 32 + NONCE_LEN;
const INFO = SEAL_INFO;
const encoder = new TextEncoder();

/**
 * Encrypts `plaintext` so that only the holder of `recipientEd25519Pub` can open it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateKeyPair, openSealed, seal } from "./mod.ts";
 *
 * const bob = await generateKeyPair("bob");
 * const record = new TextEncoder().encode("203.0.113.7:2222");
 * const sealed = await seal(bob.publicKey, record, { context: "addr" });
 * assert.deepEqual(await openSealed(bob, sealed, { context: "addr" }), record);
 * ```
 * @throws {RojError} `bad_input` if the recipient key is not a valid ed25519 public key.
 */
// deno-lint-ignore require-await -- async so callers can rely on a Promise API
export async function seal(
  recipientEd25519Pub: Uint8Array,
  plaintext: Uint8Array,
  opts: SealOptions = {},
): Promise<Uint8Array> {
  const recipient = opts.to !== undefined
    ? checkX25519(opts.to)
    : toX25519Public(recipientEd25519Pub);
  const { secretKey, publicKey: eph } = x25519.keygen();
  const shared = dh(secretKey, recipient, "bad_input");
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_LEN));
  const key = deriveKey(shared, eph, recipient, opts.context);
  const body = chacha20poly1305(key, nonce, opts.aad).encrypt(plaintext);
  return concatBytes(new Uint8Array([VERSION]), eph, nonce, body);
}

/**
 * Opens bytes made by {@linkcode seal} for `recipient`, with the same `aad` and `context`.
 *
 * @throws {RojError} `seal_failed` if the bytes are truncated, tampered with,
 * sealed to another key, or the `aad` or `context` differ.
 */
// deno-lint-ignore require-await -- async so callers can rely on a Promise API
export async function openSealed(
  recipient: KeyPair,
  sealed: Uint8Array,
  opts: SealOptions = {},
): Promise<Uint8Array> {
  if (sealed.length < HEADER_LEN + TAG_LEN) {
    throw new RojError("seal_failed", `sealed data is truncated (${sealed.length} bytes)`);
  }
  if (sealed[0] !== VERSION) {
    throw new RojError("seal_failed", `unsupported sealed data version ${sealed[0]}`);
  }
  const eph = sealed.subarray(1, 33);
  const nonce = sealed.subarray(33, HEADER_LEN);
  try {
    const shared = dh(ed25519.utils.toMontgomerySecret(recipient.seed), eph, "seal_failed");
    const key = deriveKey(shared, eph, agreementPublicKey(recipient), opts.context);
    return chacha20poly1305(key, nonce, opts.aad).decrypt(sealed.subarray(HEADER_LEN));
  } catch (cause) {
    throw new RojError("seal_failed", "cannot open sealed data: not for this key, or altered", {
      cause,
    });
  }
}

/**
 * The static X25519 shared secret between two identities (32 bytes); both sides
 * compute the same value. Hash it before use (e.g. HKDF with a label).
 *
 * @throws {RojError} `bad_input` if `theirEd25519Pub` is not a valid ed25519
 * public key or the result is all zeros (a low-order key).
 */
export function x25519SharedSecret(
  mine: KeyPair,
  theirEd25519Pub: Uint8Array,
  theirX25519?: Uint8Array,
): Uint8Array {
  const theirs = theirX25519 !== undefined
    ? checkX25519(theirX25519)
    : toX25519Public(theirEd25519Pub);
  return dh(ed25519.utils.toMontgomerySecret(mine.seed), theirs, "bad_input");
}

/**
 * The X25519 public key that goes with `kp`'s agreement secret (the one
 * openSealed and x25519SharedSecret use). For a key from a file it is the
 * X25519 form of the ed25519 key, which anyone can compute; for a key in
 * ssh-agent, whose seed here is only the agreement's, it is a key of its
 * own, which the node publishes to its contacts (hello `agree`).
 */
export function agreementPublicKey(kp: KeyPair): Uint8Array {
  return x25519.getPublicKey(ed25519.utils.toMontgomerySecret(kp.seed));
}

/** Whether `kp`'s agreement key is not the X25519 form of its ed25519 key (so must be published). */
export function agreementKeyIsOwn(kp: KeyPair): boolean {
  const own = agreementPublicKey(kp);
  const derived = toX25519Public(kp.publicKey);
  return own.some((b, i) => b !== derived[i]);
}

/**
 * The X25519 key in a contact's hello (`agree`, base64), if it is one that
 * can be agreed with: 32 bytes and not of low order (which would make every
 * shared secret zero). Undefined for none or an unusable one.
 */
export function publishedAgreementKey(b64: string | undefined): Uint8Array | undefined {
  if (b64 === undefined) return undefined;
  let key: Uint8Array;
  try {
    key = base64.decode(b64);
  } catch {
    return undefined;
  }
  if (key.length !== 32) return undefined;
  try {
    // Any clamped scalar sends a low-order point to zero.
    const probe = x25519.getSharedSecret(new Uint8Array(32).fill(0x41), key);
    return probe.some((b) => b !== 0) ? key : undefined;
  } catch {
    return undefined;
  }
}

function checkX25519(key: Uint8Array): Uint8Array {
  if (key.length !== 32) {
    throw new RojError("bad_input", `X25519 public key must be 32 bytes, got ${key.length}`);
  }
  return key;
}

function toX25519Public(edPub: Uint8Array): Uint8Array {
  if (edPub.length !== 32) {
    throw new RojError("bad_input", `ed25519 public key must be 32 bytes, got ${edPub.length}`);
  }
  try {
    return ed25519.utils.toMontgomery(edPub);
  } catch (cause) {
    throw new RojError("bad_input", "not a valid ed25519 public key", { cause });
  }
}

function dh(secret: Uint8Array, pub: Uint8Array, code: "bad_input" | "seal_failed"): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(secret, pub);
  } catch (cause) {
    throw new RojError(code, "X25519 key agreement failed (low-order key?)", { cause });
  }
  if (shared.every((b) => b === 0)) throw new RojError(code, "X25519 shared secret is all zeros");
  return shared;
}

function deriveKey(
  shared: Uint8Array,
  eph: Uint8Array,
  recipient: Uint8Array,
  context = "",
): Uint8Array {
  const info = encoder.encode(INFO + context);
  return hkdf(sha256, shared, concatBytes(eph, recipient), info, 32);
}
