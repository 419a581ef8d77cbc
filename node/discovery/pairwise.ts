/**
 * Pairwise tags and sealed copies of address records.
 *
 * Two contacts share an X25519 secret (from their ed25519 identities, or the
 * X25519 key a contact whose key is in ssh-agent published). From it
 * both can compute, for each of them as owner, a 16-byte tag and a key:
 *
 *   tag(owner)  = HKDF-SHA256(secret, salt "roj-tag-v1",  info owner key)[0..16]
 *   key(owner)  = HKDF-SHA256(secret, salt "roj-seal-v1", info owner key)
 *   sealed      = nonce(24) || XChaCha20-Poly1305(key, nonce, packed record, aad = tag)
 *   lanTag(owner, window) = HKDF-SHA256(secret, salt "roj-lan-v1", info owner key || u64 window)[0..16]
 *
 * Anyone may hold and serve (tag, sealed); only the two of them can compute
 * the tag or open the copy. A tag names neither party.
 *
 * Cost: every node of a hive that moves recomputes these for all its contacts
 * at once, so the X25519 step runs natively (identity/shared_secret.ts) and
 * each pair derives its two tags and keys only once.
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { RojError } from "../errors.ts";
import {
  type KeyPair,
  LAN_TAG_SALT,
  PAIRWISE_SEAL_SALT,
  PAIRWISE_TAG_SALT,
  sharedSecretOf,
} from "../identity/mod.ts";
import { toHex } from "../log/mod.ts";

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
  /**
   * The tag `owner` puts in its LAN announcements for the other during time
   * window `window` (see node/lan): a new one each window, so announcements
   * from different windows cannot be linked by anyone else.
   */
  lanTag(owner: Uint8Array, window: number): Uint8Array;
}

/** The X25519 key a contact published, if it did (its key is in ssh-agent; contacts/agreeKeys). */
type AgreeKeyOf = (them: Uint8Array) => Uint8Array | undefined;

/** The pairwise secrets of one identity with its contacts, computed once each (again when a contact publishes an X25519 key). */
export function pairwise(
  me: KeyPair,
  agreeKeyOf: AgreeKeyOf = () => undefined,
): (them: Uint8Array) => Pair {
  const cache = new Map<string, Pair>();
  return (them) => {
    const agree = agreeKeyOf(them);
    const id = agree ? `${toHex(them)}:${toHex(agree)}` : toHex(them);
    let pair = cache.get(id);
    if (pair) return pair;
    const secret = sharedSecretOf(me, them, agree);
    // Only two owners per pair (us and them): each derives its tag and key once.
    const derived = new Map<string, { tag: Uint8Array; key: Uint8Array }>();
    const of = (owner: Uint8Array) => {
      const k = toHex(owner);
      let d = derived.get(k);
      if (!d) {
        d = {
          tag: hkdf(sha256, secret, encoder.encode(PAIRWISE_TAG_SALT), owner, TAG_BYTES),
          key: hkdf(sha256, secret, encoder.encode(PAIRWISE_SEAL_SALT), owner, 32),
        };
        if (derived.size >= 2) derived.clear();
        derived.set(k, d);
      }
      return d;
    };
    pair = {
      tag: (owner) => of(owner).tag.slice(),
      seal(owner, packed) {
        const { tag, key } = of(owner);
        const nonce = crypto.getRandomValues(new Uint8Array(24));
        const ct = xchacha20poly1305(key, nonce, tag).encrypt(packed);
        const out = new Uint8Array(24 + ct.length);
        out.set(nonce);
        out.set(ct, 24);
        return out;
      },
      lanTag(owner, window) {
        const info = new Uint8Array(owner.length + 8);
        info.set(owner);
        new DataView(info.buffer).setBigUint64(owner.length, BigInt(window));
        return hkdf(sha256, secret, encoder.encode(LAN_TAG_SALT), info, TAG_BYTES);
      },
      open(owner, sealed) {
        if (sealed.length < 24 + 16 || sealed.length > MAX_SEALED) {
          throw new RojError("seal_failed", "sealed record has a bad size");
        }
        const { tag, key } = of(owner);
        try {
          return xchacha20poly1305(key, sealed.subarray(0, 24), tag).decrypt(sealed.subarray(24));
        } catch (err) {
          throw new RojError("seal_failed", "sealed record does not open", { cause: err });
        }
      },
    };
    if (cache.size > 4096) cache.clear();
    cache.set(id, pair);
    return pair;
  };
}
