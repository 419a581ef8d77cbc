/**
 * How a run of entries is cut into atomic KV commits: each commit writes its
 * entries, the head of every author it moves and the chat's clock, and stays
 * under Deno KV's limits on mutations, value bytes and key bytes. A pure
 * function of the entries.
 */
import { MAX_COMMIT_BYTES, MAX_COMMIT_KEY_BYTES, MAX_MUTATIONS } from "../store/mod.ts";
import type { Entry } from "./entry.ts";

/** One atomic commit: its entries, and each author's last of them (the head it moves). */
export interface CommitBatch {
  readonly entries: Entry[];
  /** Author hex → the author's newest entry in the batch. */
  readonly moved: ReadonlyMap<string, Entry>;
}

/** Authors whose heads one commit moves, at most (each costs a check and a set). */
const MAX_MOVED = 90;

/**
 * Cuts `entries` (in chain order per author) into commits within the KV
 * limits; every commit holds at least one entry.
 * @param keyOf an author key's hex
 */
export function planCommits(
  chat: string,
  entries: readonly Entry[],
  keyOf: (author: Uint8Array) => string,
): CommitBatch[] {
  const out: CommitBatch[] = [];
  // Upper bound of one key's encoded size: chat id, a 32-byte author, numbers, framing.
  const keySize = chat.length + 32 + 48;
  let i = 0;
  while (i < entries.length) {
    const start = i;
    const moved = new Map<string, Entry>();
    // The chat's clock is one more mutation.
    let mutations = 1;
    let bytes = 0;
    let keyBytes = 0;
    for (; i < entries.length; i++) {
      const e = entries[i]!;
      const size = e.signed.length + e.sig.length + 128;
      const k = keyOf(e.author);
      // An entry is one set; an author new to the batch adds a head check and set.
      const extra = moved.has(k) ? 1 : 2;
      if (
        moved.size > 0 &&
        (mutations + extra > MAX_MUTATIONS || bytes + size > MAX_COMMIT_BYTES ||
          keyBytes + extra * keySize > MAX_COMMIT_KEY_BYTES ||
          (extra === 2 && moved.size >= MAX_MOVED))
      ) break;
      keyBytes += extra * keySize;
      moved.set(k, e);
      mutations += extra;
      bytes += size;
    }
    out.push({ entries: entries.slice(start, i), moved });
  }
  return out;
}
