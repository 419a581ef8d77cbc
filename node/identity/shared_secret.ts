/**
 * The static X25519 secret of our identity with a contact's, as
 * x25519SharedSecret computes it, but natively (node:crypto, ~80 µs instead
 * of ~730 µs in JS) and once per contact for as long as our key pair lives.
 *
 * Why cached: a node that moves, or visits an anchor, derives tags and keys
 * with every contact at once (pairwise records, 1:1 mail, group pointers);
 * the secret for one contact never changes until it publishes another X25519
 * key, which is part of the cache key. Held per KeyPair object, so a node
 * that closes forgets them with its key.
 */
import { Buffer } from "node:buffer";
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { toHex } from "../wire/mod.ts";
import type { KeyPair } from "./keys.ts";
import { x25519SharedSecret } from "./seal.ts";

/** DER prefixes of an X25519 PKCS#8 private key and SPKI public key (RFC 8410), before the 32 raw bytes. */
const X25519_PKCS8 = Buffer.from("302e020100300506032b656e04220420", "hex");
const X25519_SPKI = Buffer.from("302a300506032b656e032100", "hex");
/** Contacts' secrets kept per key pair; past it the cache starts again. */
const MAX_CACHED = 4096;

interface Secrets {
  readonly native: KeyObject | null;
  readonly cache: Map<string, Uint8Array>;
}
const byKeyPair = new WeakMap<KeyPair, Secrets>();

function secretsOf(me: KeyPair): Secrets {
  let s = byKeyPair.get(me);
  if (s) return s;
  let native: KeyObject | null = null;
  try {
    native = createPrivateKey({
      key: Buffer.concat([X25519_PKCS8, ed25519.utils.toMontgomerySecret(me.seed)]),
      format: "der",
      type: "pkcs8",
    });
  } catch { /* no native X25519 here: the JS one below */ }
  byKeyPair.set(me, s = { native, cache: new Map() });
  return s;
}

/**
 * The same 32 bytes as x25519SharedSecret(me, them, agree) (shared_secret_test
 * checks), which stays the fallback and the source of the error for a bad or
 * low-order key.
 *
 * @throws {RojError} `bad_input` as x25519SharedSecret does
 */
export function sharedSecretOf(me: KeyPair, them: Uint8Array, agree?: Uint8Array): Uint8Array {
  const s = secretsOf(me);
  const id = agree ? `${toHex(them)}:${toHex(agree)}` : toHex(them);
  const hit = s.cache.get(id);
  if (hit) return hit;
  let shared: Uint8Array | undefined;
  if (s.native && them.length === 32 && (agree === undefined || agree.length === 32)) {
    try {
      const pub = createPublicKey({
        key: Buffer.concat([X25519_SPKI, agree ?? ed25519.utils.toMontgomery(them)]),
        format: "der",
        type: "spki",
      });
      const out = new Uint8Array(diffieHellman({ privateKey: s.native, publicKey: pub }));
      if (out.some((b) => b !== 0)) shared = out;
    } catch { /* not a valid key: the fallback says why */ }
  }
  shared ??= x25519SharedSecret(me, them, agree);
  if (s.cache.size >= MAX_CACHED) s.cache.clear();
  s.cache.set(id, shared);
  return shared;
}
