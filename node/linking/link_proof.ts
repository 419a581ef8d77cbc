/**
 * A new device's proof that it was shown a link code: HMAC-SHA256 keyed by
 * the code's secret over
 *
 *   "roj-devlink-proof-v1\0" || new device's raw key (32) || linking device's raw key (32)
 *
 * The secret itself never travels, and a proof made for one new key (or for
 * another linking device) is worth nothing for any other.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { DEVICE_LINK_PROOF_LABEL } from "../identity/mod.ts";

const LABEL = new TextEncoder().encode(DEVICE_LINK_PROOF_LABEL);

/** The 32-byte proof that the holder of `newDevice` knows `secret`, for `linking`. */
export function linkProof(
  secret: Uint8Array,
  newDevice: Uint8Array,
  linking: Uint8Array,
): Uint8Array {
  const msg = new Uint8Array(LABEL.length + newDevice.length + linking.length);
  msg.set(LABEL, 0);
  msg.set(newDevice, LABEL.length);
  msg.set(linking, LABEL.length + newDevice.length);
  return hmac(sha256, secret, msg);
}

/** Compares two byte strings in time that depends only on their lengths. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
