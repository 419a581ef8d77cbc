/**
 * Merging what a sibling filed at an anchor (own_mail.ts), grouped by direct
 * chat: each chat's entries are admitted by their authors (the contact or a
 * device of theirs, the person or a device of ours, each speaking for its
 * person at the entry's time), merged through the log, shown; those whose
 * predecessor is missing wait for it, as 1:1 mail's do.
 */
import { decodeEntry, type Entry, type RawEntry } from "../log/mod.ts";
import type { ChatLog } from "../log/mod.ts";

/** Bytes of entries waiting for a missing predecessor in one visit, at most (the lowest seqs). */
const MAX_WAITING_BYTES = 8 * 1024 * 1024;

/** What merging needs of the node (OwnMailHost's part). */
export interface MergeHost {
  readonly log: ChatLog;
  admit(contact: Uint8Array, raws: RawEntry[]): Promise<RawEntry[]>;
  stored(chat: string, contact: Uint8Array, entries: Entry[]): Promise<void> | void;
}

/**
 * Merges each chat's entries (`chats`: our direct chats, by id, to their
 * contact); resolves with those still waiting for a predecessor, bounded.
 */
export async function mergeChats(
  host: MergeHost,
  pending: Map<string, RawEntry[]>,
  chats: Map<string, Uint8Array>,
  tally: { stored: number },
): Promise<Map<string, RawEntry[]>> {
  const out = new Map<string, RawEntry[]>();
  let bytes = 0;
  for (const [chat, all] of pending) {
    const contact = chats.get(chat);
    if (!contact) continue; // a contact removed meanwhile
    // The sibling can hand us no entry by anyone else.
    const raws = await host.admit(contact, all);
    if (raws.length === 0) continue;
    const res = await host.log.merge(chat, raws);
    if (res.stored.length > 0) {
      tally.stored += res.stored.length;
      await host.stored(chat, contact, res.stored);
    }
    const gaps = new Set(res.rejected.filter((r) => r.code === "seq_gap").map((r) => r.seq));
    if (gaps.size === 0) continue;
    const kept = raws.map((r) => ({ r, seq: decodeEntry(r.signed).seq }))
      .filter((w) => gaps.has(w.seq)).sort((x, y) => x.seq - y.seq).map((w) => w.r);
    const held: RawEntry[] = [];
    for (const r of kept) {
      bytes += r.signed.length + r.sig.length;
      if (bytes > MAX_WAITING_BYTES) break;
      held.push(r);
    }
    if (held.length > 0) out.set(chat, held);
  }
  return out;
}
