/**
 * One `mbox.put` of a chat's entries (1:1 mail, direct_mail.ts, and mail
 * between a person's devices, own_mail.ts): sealed under `mk`, as many as
 * fit PUT_BYTES (at least one), with the commitment the holder deletes them
 * by once acked.
 */
import type { RpcSession } from "../protocol/mod.ts";
import { encodeB64 } from "../protocol/mod.ts";
import { putAck } from "./direct_ack.ts";
import { boxId, type MailboxKeys, sealBox } from "./mailbox_crypto.ts";

/** Bytes of boxes per put, so the request fits a frame in base64 (as for group mail). */
export const PUT_BYTES = 560 * 1024;

/** What one put did: how many of the entries went in it, how many the holder took, and why not all. */
export interface PutResult {
  readonly offered: number;
  readonly taken: number;
  readonly reason?: string;
}

export async function putSealed(
  rpc: RpcSession,
  mk: MailboxKeys,
  entries: readonly { signed: Uint8Array; sig: Uint8Array; hash: Uint8Array }[],
): Promise<PutResult> {
  const items: Array<{ i: string; b: string }> = [];
  let bytes = 0;
  for (const e of entries) {
    const box = sealBox(mk, e.signed, e.sig);
    if (items.length > 0 && bytes + box.length > PUT_BYTES) break;
    items.push({ i: boxId(mk, e.hash), b: encodeB64(box) });
    bytes += box.length;
  }
  const res = await rpc.request("mbox.put", { tag: mk.tag, items, ...putAck(rpc, mk) }, 30_000);
  return {
    offered: items.length,
    taken: Math.min(res.taken, items.length),
    ...(res.reason !== undefined ? { reason: res.reason } : {}),
  };
}
