/**
 * Reading a chat from the store: entries in display order, an author's
 * entries after a seq, counts of newer entries, the authors. Stateless: the
 * log's caches are consulted by ChatLog first.
 */
import { corrupt, keys, type Store } from "../store/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { decodeEntry, type Entry } from "./entry.ts";
import { compareEntries } from "./order.ts";
import { type SeqEntry, storedEntry, unpackEntry } from "./stored_entry.ts";

/** An author's stored entries with seq > `after`, in seq order, at most `limit`. */
export function listAfter(
  store: Store,
  chat: string,
  author: Uint8Array,
  after: number,
  limit: number,
): Deno.KvListIterator<unknown> {
  return store.kv.list<unknown>({
    start: keys.entry(chat, author, after + 1),
    end: [...keys.authorEntries(chat, author), Number.MAX_SAFE_INTEGER],
  }, { limit, batchSize: Math.min(limit, 500) });
}

/** {@linkcode listAfter}, decoded. */
export async function entriesAfter(
  store: Store,
  chat: string,
  author: Uint8Array,
  after: number,
  limit: number,
): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const res of listAfter(store, chat, author, after, limit)) {
    out.push(storedEntry(res.key, res.value));
  }
  return out;
}

/** {@linkcode listAfter}, only seq and bytes: for sending on without decoding each. */
export async function rawEntriesAfter(
  store: Store,
  chat: string,
  author: Uint8Array,
  after: number,
  limit: number,
): Promise<SeqEntry[]> {
  const out: SeqEntry[] = [];
  for await (const res of listAfter(store, chat, author, after, limit)) {
    const raw = unpackEntry(res.value);
    const seq = res.key[3];
    if (raw === null || typeof seq !== "number") throw corrupt(res.key, "entry");
    out.push({ seq, signed: raw.signed, sig: raw.sig });
  }
  return out;
}

/**
 * Entries in display order, (Lamport, author, seq). With `last`, only the
 * newest `last` of them.
 *
 * There is no index by display order: each author's chain is stored in seq
 * order, which is also its Lamport order (a merge refuses a clock that does
 * not advance), so the chains are read and sorted together. One stored row
 * per entry halves what every append and merge writes.
 */
export async function readChat(
  store: Store,
  chat: string,
  options: { last?: number } = {},
): Promise<Entry[]> {
  const out: Entry[] = [];
  if (options.last === undefined) {
    const iter = store.kv.list<unknown>({ prefix: keys.entries(chat) }, { batchSize: 500 });
    for await (const res of iter) out.push(storedEntry(res.key, res.value));
    return out.sort(compareEntries);
  }
  const last = options.last;
  if (last <= 0) return out;
  // The newest `last` overall are among the newest `last` of each author.
  for (const author of await storedAuthors(store, chat)) {
    const iter = store.kv.list<unknown>({ prefix: keys.authorEntries(chat, author) }, {
      reverse: true,
      limit: last,
      batchSize: Math.min(500, last),
    });
    for await (const res of iter) out.push(storedEntry(res.key, res.value));
  }
  return out.sort(compareEntries).slice(-last);
}

/**
 * How many entries of `chat` have a Lamport clock above `lamport`, leaving
 * out `except`'s (one's own: a key, or a test of the author) and those of
 * `skipTypes`; counting stops at `limit`.
 */
export async function countNewer(
  store: Store,
  chat: string,
  lamport: number,
  options: {
    except?: Uint8Array | ((author: Uint8Array) => boolean);
    limit?: number;
    skipTypes?: ReadonlySet<string>;
  } = {},
): Promise<number> {
  const limit = options.limit ?? 10_000;
  let n = 0;
  for (const author of await storedAuthors(store, chat)) {
    const { except } = options;
    if (typeof except === "function" ? except(author) : except && bytesEqual(author, except)) {
      continue;
    }
    // Newest first, until the author's clock is at or below the mark.
    const iter = store.kv.list<unknown>({ prefix: keys.authorEntries(chat, author) }, {
      reverse: true,
      batchSize: 100,
    });
    for await (const res of iter) {
      const raw = unpackEntry(res.value);
      let fields: { lamport: number; type: string };
      try {
        if (raw === null) throw new TypeError();
        fields = decodeEntry(raw.signed);
      } catch {
        throw corrupt(res.key, "entry");
      }
      if (fields.lamport <= lamport) break;
      if (options.skipTypes?.has(fields.type)) continue; // e.g. reactions: no message to read
      if (++n >= limit) return n;
    }
  }
  return n;
}

/** The authors with entries in `chat`, as the store holds them now. */
export async function storedAuthors(store: Store, chat: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const res of store.kv.list<unknown>({ prefix: keys.heads(chat) })) {
    const author = res.key[2];
    if (!(author instanceof Uint8Array)) throw corrupt(res.key, "head key");
    out.push(author);
  }
  return out;
}
