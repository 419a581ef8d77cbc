/**
 * Setting an author's chain in a chat aside, for a re-base (node/identity_guard).
 *
 * The entries move, newest first, from `entry` keys to `aside` keys; each
 * batch moves the author's head down to the entry below it in the same
 * atomic commit, so at every moment the chain held is a whole prefix of the
 * old one and every entry is in exactly one of the two places. Once all are
 * aside the author has no head here, and a contact's copy of the chain can
 * be taken in from seq 1; the entries aside are read back to write the
 * messages again on top of it.
 */
import { batchDelete, corrupt, keys, type Store } from "../store/mod.ts";
import type { Entry } from "./entry.ts";
import type { Head } from "./head_cache.ts";
import { storedEntry } from "./stored_entry.ts";

/** Entries moved per commit (two mutations each), and their bytes at most. */
const BATCH = 200;
const BATCH_BYTES = 400 * 1024;

/** Moves every entry of `author` in `chat` aside; resolves with how many moved. */
export async function moveAside(store: Store, chat: string, author: Uint8Array): Promise<number> {
  const kv = store.kv;
  let moved = 0;
  for (;;) {
    const batch: Array<{ key: Deno.KvKey; value: unknown; seq: number; size: number }> = [];
    let bytes = 0;
    const iter = kv.list<unknown>({ prefix: keys.authorEntries(chat, author) }, {
      reverse: true,
      batchSize: BATCH,
    });
    for await (const res of iter) {
      const seq = res.key[3];
      if (typeof seq !== "number") throw corrupt(res.key, "entry");
      const size = res.value instanceof Uint8Array ? res.value.length : 1024;
      if (batch.length > 0 && (batch.length >= BATCH || bytes + size > BATCH_BYTES)) break;
      batch.push({ key: res.key, value: res.value, seq, size });
      bytes += size;
    }
    if (batch.length === 0) return moved;
    const lowest = batch.at(-1)!.seq;
    const below = lowest > 1 ? await kv.get<unknown>(keys.entry(chat, author, lowest - 1)) : null;
    const op = kv.atomic();
    for (const e of batch) {
      op.set(keys.aside(chat, e.seq), e.value);
      op.delete(e.key);
    }
    if (below && below.value !== null) {
      const e = storedEntry(below.key, below.value);
      op.set(
        keys.head(chat, author),
        { seq: e.seq, hash: e.hash, lamport: e.lamport } satisfies Head,
      );
    } else op.delete(keys.head(chat, author));
    const res = await op.commit();
    if (!res.ok) throw new Error("setting entries aside failed to commit");
    moved += batch.length;
  }
}

/** The entries set aside in `chat`, in seq order. */
export async function entriesAside(store: Store, chat: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const res of store.kv.list<unknown>({ prefix: keys.asideAll(chat) })) {
    out.push(storedEntry(res.key, res.value));
  }
  return out;
}

/** Forgets the entries set aside in `chat` (they were written again). */
export async function dropAside(store: Store, chat: string): Promise<void> {
  const doomed = batchDelete(store.kv);
  for await (const res of store.kv.list({ prefix: keys.asideAll(chat) })) await doomed.add(res.key);
  await doomed.flush();
}
