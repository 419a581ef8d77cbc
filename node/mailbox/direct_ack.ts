/**
 * Deleting 1:1 mail once its recipient took it (feature dmail-ack).
 *
 *   token  = HKDF-SHA256(ikm = the box key of one direction and week
 *                        (direct_keys.ts), salt = "roj-dmail-ack-v1", 32 bytes)
 *   commit = SHA-256(token), hex
 *
 * The sender files `commit` with each box it puts (`mbox.put` `k`); the
 * recipient, once it merged the boxes of a tag into its log, sends the token
 * (`mbox.ack`), and the holder deletes the boxes under that tag, up to the
 * number acked, whose commit the token hashes to. Only the two people know
 * the box key, so nobody else who learnt a tag can have its boxes deleted
 * (the holder could always drop them); the sender could, but deleting mail
 * it wrote itself costs only its own delivery. Boxes filed without `k` (an
 * older sender, group mail) are never deleted this way: they expire.
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { DIRECT_ACK_SALT } from "../identity/mod.ts";
import { DIRECT_ACK_FEATURE, peerHas, type RpcSession } from "../protocol/mod.ts";
import { toHex } from "../wire/mod.ts";
import type { MailboxKeys } from "./mailbox_crypto.ts";

const encoder = new TextEncoder();

/** The token that deletes the boxes filed under these keys. */
export function ackToken(mk: MailboxKeys): Uint8Array {
  return hkdf(sha256, mk.key, encoder.encode(DIRECT_ACK_SALT), undefined, 32);
}

/** What the sender files with each box: SHA-256 of the token, hex. */
export function ackCommit(token: Uint8Array): string {
  return toHex(sha256(token));
}

/** The `k` to add to an `mbox.put` under these keys, when the holder deletes on ack. */
export function putAck(rpc: RpcSession, mk: MailboxKeys): { k?: string } {
  return peerHas(rpc.peerHello, DIRECT_ACK_FEATURE) ? { k: ackCommit(ackToken(mk)) } : {};
}

/**
 * Asks the holder to delete the boxes under `mk`'s tag up to number `upTo`,
 * which we hold now. Resolves with how many it deleted (0 from a holder that
 * does not delete, or when the request failed: they expire then).
 */
export async function sendAck(rpc: RpcSession, mk: MailboxKeys, upTo: number): Promise<number> {
  if (upTo < 1 || !peerHas(rpc.peerHello, DIRECT_ACK_FEATURE) || rpc.closed) return 0;
  try {
    const res = await rpc.request("mbox.ack", {
      tag: mk.tag,
      upTo,
      token: toHex(ackToken(mk)),
    }, 30_000);
    return res.deleted;
  } catch {
    return 0;
  }
}
