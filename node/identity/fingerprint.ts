/**
 * OpenSSH fingerprints: how a peer is shown to a person, exactly as
 * `ssh-keygen -lf` prints it.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { base64nopad } from "@scure/base";
import { toHex } from "../wire/mod.ts";
import { publicKeyBlob } from "./keys.ts";

/**
 * The fingerprints asked for last, by key (hex): a node with 1,000 contacts
 * says each one's at every dial of every round, a catch-up each author's at
 * every message; a sha256 and its base64 cost ~1.5 KB of garbage each time.
 */
const recent = new Map<string, string>();
const RECENT_MAX = 2048;

/**
 * "SHA256:" + unpadded base64 of sha256(public key blob).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fingerprint, generateKeyPair } from "./mod.ts";
 *
 * const kp = await generateKeyPair("alice");
 * assert.match(fingerprint(kp.publicKey), /^SHA256:[A-Za-z0-9+\/]{43}$/);
 * ```
 * @throws {RangeError} if `pub` is not 32 bytes.
 */
export function fingerprint(pub: Uint8Array): string {
  const k = toHex(pub);
  let fp = recent.get(k);
  if (fp === undefined) {
    fp = "SHA256:" + base64nopad.encode(sha256(publicKeyBlob(pub))); // throws for a wrong length
    if (recent.size >= RECENT_MAX) recent.clear();
    recent.set(k, fp);
  }
  return fp;
}

/**
 * The line `ssh-keygen -lf` prints for the key: "256 SHA256:… comment (ED25519)",
 * with "no comment" in place of an empty comment.
 *
 * @throws {RangeError} if `pub` is not 32 bytes.
 */
export function fingerprintLine(pub: Uint8Array, comment = ""): string {
  return `256 ${fingerprint(pub)} ${comment === "" ? "no comment" : comment} (ED25519)`;
}
