/**
 * Pairwise tags and sealed copies of address records.
 *
 * Two contacts share an X25519 secret (from their ed25519 identities). From it
 * both can compute, for each of them as owner, a 16-byte tag and a key:
 *
 *   tag(owner)  = HKDF-SHA256(secret, salt "roj-tag-v1",  info owner key)[0..16]
 *   key(owner)  = HKDF-SHA256(secret, salt "roj-seal-v1", info owner key)
 *   sealed      = nonce(24) || XChaCha20-Poly1305(key, nonce, packed record, aad = tag)
 *
 * Anyone may hold and serve (tag, sealed); only the two of them can compute
 * the tag or open the copy. A tag names neither party.
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { RojError } from "../errors.ts";
import { type KeyPair, x25519SharedSecret } from "../identity/mod.ts";

const encoder = new TextEncoder();
export const TAG_BYTES = 16;
/** Largest sealed copy accepted for storage. */
export const MAX_SEALED = 1400;

export interface Pair {
  /** Our tag and key for the record `owner` publishes for the other. */
  tag(owner: Uint8Array): Uint8Array;
  seal(owner: Uint8Array, packed: Uint8Array): Uint8Array;
  /** @throws {RojError} seal_failed */
  open(owner: Uint8Array, sealed: Uint8Array): Uint8Array;
}

/** The pairwise secrets of one identity with its contacts, computed once each. */
export function pairwise(me: KeyPair): (them: Uint8Array) => Pair {
  const cache = new Map<string, Pair>();
  return (them) => {
    const id = Array.from(them).join(",");
    let pair = cache.get(id);
    if (pair) return pair;
    const secret = x25519SharedSecret(me, them);
    const derive = (salt: string, owner: Uint8Array, n: number) =>
      hkdf(sha256, secret, encoder.encode(salt), owner, n);
    pair = {
      tag: (owner) => derive("roj-tag-v1", owner, TAG_BYTES),
      seal(owner, packed) {
        const nonce = crypto.getRandomValues(new Uint8Array(24));
        const ct = xchacha20poly1305(derive("roj-seal-v1", owner, 32), nonce, this.tag(owner))
          .encrypt(packed);
        const out = new Uint8Array(24 + ct.length);
        out.set(nonce);
        out.set(ct, 24);
        return out;
      },
      open(owner, sealed) {
        if (sealed.length < 24 + 16 || sealed.length > MAX_SEALED) {
          throw new RojError("seal_failed", "sealed record has a bad size");
        }
        try {
          return xchacha20poly1305(
            derive("roj-seal-v1", owner, 32),
            sealed.subarray(0, 24),
            this.tag(owner),
          ).decrypt(sealed.subarray(24));
        } catch {
          throw new RojError("seal_failed", "sealed record does not open");
        }
      },
    };
    if (cache.size > 4096) cache.clear();
    cache.set(id, pair);
    return pair;
  };
}
