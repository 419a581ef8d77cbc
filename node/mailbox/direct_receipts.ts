/**
 * The receipts a visit leaves a contact (direct_mail.ts): how far we hold
 * each chain of theirs that we took entries of, one box per chain and new
 * height. The person key's chain's under the keys of mail to the contact, as
 * before devices; a device's chain's under keys whose recipient is that
 * device (direct_pairs.ts), so only that device reads it.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { ChatLog } from "../log/mod.ts";
import { encodeB64, type RpcSession } from "../protocol/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { putAck } from "./direct_ack.ts";
import { directWindow, receiptBytes } from "./direct_keys.ts";
import type { DirectPairs } from "./direct_pairs.ts";
import { boxId, sealBox } from "./mailbox_crypto.ts";

/** Devices' chains a cursor remembers receipts of, at most (past it, the lowest go). */
const MAX_DEVICE_RECEIPTS = 32;

/** What a cursor keeps of the receipts left at one holder. */
export interface ReceiptMarks {
  /** The height of the contact's (person key's) chain our last receipt here named. */
  rcpt?: number;
  /** The same per device of theirs (hex). */
  drcpt?: Record<string, number>;
}

/** Leaves `peer`, at the holder on `rpc`, a receipt for each of `authors`' chains that grew. */
export async function leaveReceipts(
  rpc: RpcSession,
  pairs: DirectPairs,
  log: ChatLog,
  chat: string,
  peer: Uint8Array,
  authors: Iterable<Uint8Array>,
  marks: ReceiptMarks,
  now: number,
): Promise<void> {
  const ps = pairs.sealing(peer);
  if (!ps) return;
  const heads = await log.heads(chat);
  for (const author of authors) {
    if (rpc.closed) return;
    const k = toHex(author);
    const own = bytesEqual(author, peer);
    const held = heads.get(k)?.seq ?? 0;
    if (held <= ((own ? marks.rcpt : marks.drcpt?.[k]) ?? 0)) continue;
    const mk = pairs.keys(ps, author, directWindow(now));
    const body = receiptBytes(held);
    const res = await rpc.request("mbox.put", {
      tag: mk.tag,
      items: [{ i: boxId(mk, sha256(body)), b: encodeB64(sealBox(mk, body, new Uint8Array())) }],
      ...putAck(rpc, mk),
    }, 30_000);
    if (res.taken === 0) continue;
    if (own) marks.rcpt = held;
    else {
      const d = { ...marks.drcpt, [k]: held };
      const keep = Object.entries(d).sort(([, x], [, y]) => y - x).slice(0, MAX_DEVICE_RECEIPTS);
      marks.drcpt = Object.fromEntries(keep);
    }
  }
}
