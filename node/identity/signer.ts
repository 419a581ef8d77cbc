/**
 * Raw Ed25519 signing and verification on WebCrypto. Verification is the hot
 * path (every log entry), so {@linkcode createVerifier} keeps imported keys.
 */
import { toBufferSource } from "./_util.ts";
import type { KeyPair } from "./keys.ts";

/** Signs with one identity; the private key stays inside a non-extractable CryptoKey. */
export interface Signer {
  /** The 32-byte raw ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** The 64-byte raw Ed25519 signature of `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** Checks raw Ed25519 signatures; never throws for bad input. */
export interface Verifier {
  /** True when `sig` is `pub`'s valid signature of `data`. */
  verify(pub: Uint8Array, sig: Uint8Array, data: Uint8Array): Promise<boolean>;
}

/** Options for {@linkcode createVerifier}. */
export interface VerifierOptions {
  /** How many imported public keys to keep. @default 256 */
  maxKeys?: number;
}

/** PKCS#8 PrivateKeyInfo for Ed25519 (RFC 8410), up to the 32-byte seed. */
const PKCS8_PREFIX = new Uint8Array([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
]);

/**
 * A signer for `kp`, backed by a non-extractable WebCrypto key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSigner, generateKeyPair, verifyEd25519 } from "./mod.ts";
 *
 * const kp = await generateKeyPair("alice");
 * const signer = await createSigner(kp);
 * const data = new TextEncoder().encode("hi");
 * assert.ok(await verifyEd25519(kp.publicKey, await signer.sign(data), data));
 * ```
 * @throws {RangeError} if the seed is not 32 bytes.
 */
export async function createSigner(kp: KeyPair): Promise<Signer> {
  if (kp.seed.length !== 32) {
    throw new RangeError(`ed25519 seed must be 32 bytes, got ${kp.seed.length}`);
  }
  const pkcs8 = new Uint8Array(48);
  pkcs8.set(PKCS8_PREFIX);
  pkcs8.set(kp.seed, 16);
  const key = await crypto.subtle.importKey("pkcs8", pkcs8, "Ed25519", false, ["sign"]);
  pkcs8.fill(0);
  const publicKey = kp.publicKey.slice();
  return {
    publicKey,
    sign: async (data) =>
      new Uint8Array(await crypto.subtle.sign("Ed25519", key, toBufferSource(data))),
  };
}

/**
 * Verifies one raw Ed25519 signature, importing the key each time. For many
 * signatures by the same keys use {@linkcode createVerifier}.
 * Returns false (never throws) for wrong-length or invalid keys and signatures.
 */
export async function verifyEd25519(
  pub: Uint8Array,
  sig: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  if (pub.length !== 32 || sig.length !== 64) return false;
  try {
    const key = await importVerifyKey(pub);
    return await crypto.subtle.verify("Ed25519", key, toBufferSource(sig), toBufferSource(data));
  } catch {
    return false;
  }
}

/**
 * A verifier that keeps up to `maxKeys` imported public keys, dropping the
 * least recently used. Each verifier owns its cache; there is no global state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSigner, createVerifier, generateKeyPair } from "./mod.ts";
 *
 * const kp = await generateKeyPair("alice");
 * const data = new TextEncoder().encode("hi");
 * const sig = await (await createSigner(kp)).sign(data);
 * const verifier = createVerifier();
 * assert.ok(await verifier.verify(kp.publicKey, sig, data));
 * ```
 * @throws {RangeError} if `maxKeys` is not a positive integer.
 */
export function createVerifier(opts: VerifierOptions = {}): Verifier {
  const maxKeys = opts.maxKeys ?? 256;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new RangeError(`maxKeys must be ≥ 1, got ${maxKeys}`);
  }
  const keys = new Map<string, Promise<CryptoKey>>();

  function keyFor(pub: Uint8Array): Promise<CryptoKey> {
    const id = String.fromCharCode(...pub);
    let key = keys.get(id);
    if (key !== undefined) {
      keys.delete(id); // re-insert: Map order is our recency order
    } else {
      key = importVerifyKey(pub);
      key.catch(() => keys.delete(id));
      if (keys.size >= maxKeys) keys.delete(keys.keys().next().value!);
    }
    keys.set(id, key);
    return key;
  }

  return {
    async verify(pub, sig, data) {
      if (pub.length !== 32 || sig.length !== 64) return false;
      try {
        const key = await keyFor(pub);
        return await crypto.subtle.verify(
          "Ed25519",
          key,
          toBufferSource(sig),
          toBufferSource(data),
        );
      } catch {
        return false;
      }
    },
  };
}

function importVerifyKey(pub: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", toBufferSource(pub), "Ed25519", false, ["verify"]);
}
