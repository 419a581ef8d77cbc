/**
 * Raw Ed25519 signing and verification, on node:crypto's synchronous Ed25519,
 * which under Deno is the same native code (ring) as WebCrypto's but without a
 * hop to another thread, a promise and a copy of the data per call: a
 * signature takes ~15 µs instead of ~45-110 µs. Verification is the hot path
 * (every log entry), so {@linkcode createVerifier} keeps imported keys.
 * {@linkcode verifyEd25519}, for one-off checks, stays on WebCrypto.
 */
import type { Certificate } from "./certificate.ts";
import { Buffer } from "node:buffer";
import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from "node:crypto";
import { toBufferSource } from "./_util.ts";
import type { KeyPair } from "./keys.ts";

/**
 * Signs with one identity. The private key lives only inside the signer, as a
 * native key object that nothing exports.
 */
export interface Signer {
  /** The 32-byte raw ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** The 64-byte raw Ed25519 signature of `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /**
   * A device's certificate from its person (node/linking): entries this
   * signer makes carry it in their SSHSIG, so that an allowed_signers line
   * `cert-authority` with the person's key verifies them. @default none
   */
  readonly certificate?: Certificate;
}

/**
 * A signer that can also sign at once, as ssh2 needs for the SSH key
 * exchange and user authentication (it uses the signature in the same call).
 */
export interface SyncSigner extends Signer {
  /** The same signature as `sign`, made before returning. */
  signSync(data: Uint8Array): Uint8Array;
}

/** Checks raw Ed25519 signatures; never throws for bad input. */
export interface Verifier {
  /** True when `sig` is `pub`'s valid signature of `data`. */
  verify(pub: Uint8Array, sig: Uint8Array, data: Uint8Array): Promise<boolean>;
}

/** A verifier that can also check synchronously, as {@linkcode createVerifier}'s do. */
export interface SyncVerifier extends Verifier {
  /** The same check as `verify`, done at once. */
  verifySync(pub: Uint8Array, sig: Uint8Array, data: Uint8Array): boolean;
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
 * @throws {RangeError} if the seed is not 32 bytes, or is not the seed of `kp.publicKey`.
 */
export function createSigner(kp: KeyPair): Promise<SyncSigner> {
  try {
    return Promise.resolve(nodeSigner(kp));
  } catch (err) {
    return Promise.reject(err);
  }
}

function nodeSigner(kp: KeyPair): SyncSigner {
  if (kp.seed.length !== 32) {
    throw new RangeError(`ed25519 seed must be 32 bytes, got ${kp.seed.length}`);
  }
  const pkcs8 = Buffer.alloc(48);
  pkcs8.set(PKCS8_PREFIX);
  pkcs8.set(kp.seed, 16);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
  } finally {
    pkcs8.fill(0);
  }
  const publicKey = kp.publicKey.slice();
  // A signer under another key than the one it names would sign what nobody can check.
  const spki = createPublicKey(key).export({ format: "der", type: "spki" });
  if (!sameKey(new Uint8Array(spki.subarray(SPKI_PREFIX.length)), publicKey)) {
    throw new RangeError("the ed25519 seed is not the seed of this public key");
  }
  // A copy: the Buffer may be a view into a shared pool.
  const signSync = (data: Uint8Array) => new Uint8Array(nodeSign(null, data, key));
  return {
    publicKey,
    signSync,
    sign: (data) => {
      try {
        return Promise.resolve(signSync(data));
      } catch (err) {
        return Promise.reject(err);
      }
    },
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
export function createVerifier(opts: VerifierOptions = {}): SyncVerifier {
  const maxKeys = opts.maxKeys ?? 256;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new RangeError(`maxKeys must be ≥ 1, got ${maxKeys}`);
  }
  const keys = new Map<string, KeyObject | null>();
  // Entries come in runs by one author: the last key is checked first, without a lookup.
  let lastPub: Uint8Array | null = null;
  let lastKey: KeyObject | null = null;

  function keyFor(pub: Uint8Array): KeyObject | null {
    if (lastPub !== null && sameKey(pub, lastPub)) return lastKey;
    const id = String.fromCharCode.apply(null, pub as unknown as number[]);
    let key = keys.get(id);
    if (key !== undefined) {
      keys.delete(id); // re-insert: Map order is our recency order
    } else {
      key = importNodeKey(pub);
      if (keys.size >= maxKeys) keys.delete(keys.keys().next().value!);
    }
    keys.set(id, key);
    lastPub = pub.slice();
    lastKey = key;
    return key;
  }

  const verifySync = (pub: Uint8Array, sig: Uint8Array, data: Uint8Array): boolean => {
    if (pub.length !== 32 || sig.length !== 64) return false;
    try {
      const key = keyFor(pub);
      return key !== null && nodeVerify(null, data, key, sig);
    } catch {
      return false;
    }
  };
  return {
    verifySync,
    verify: (pub, sig, data) => Promise.resolve(verifySync(pub, sig, data)),
  };
}

/** SubjectPublicKeyInfo for Ed25519 (RFC 8410), up to the 32-byte key. */
const SPKI_PREFIX = new Uint8Array([
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x03,
  0x21,
  0x00,
]);

/** The key as a node:crypto KeyObject; null when it cannot be one. */
function importNodeKey(pub: Uint8Array): KeyObject | null {
  const der = Buffer.alloc(SPKI_PREFIX.length + 32);
  der.set(SPKI_PREFIX);
  der.set(pub, SPKI_PREFIX.length);
  try {
    return createPublicKey({ key: der, format: "der", type: "spki" });
  } catch {
    return null;
  }
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return false;
  return true;
}

function importVerifyKey(pub: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", toBufferSource(pub), "Ed25519", false, ["verify"]);
}
