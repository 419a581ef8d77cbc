/**
 * Each author's newest committed entries per chat, contiguous up to the head:
 * live sync pushes what was just written, which is read from here instead of
 * the store. Bounded in entries and bytes per tail, and in tails per log.
 */
import type { AuthorKeys } from "./author_keys.ts";
import type { Entry } from "./entry.ts";

interface Tail {
  entries: Entry[];
  bytes: number;
}

/** At most this many entries and bytes are kept per tail, and this many tails per log. */
const TAIL_ENTRIES = 32;
const TAIL_BYTES = 64 * 1024;
const MAX_TAILS = 256;

/** Recently committed entries per chat and author ("chat/authorhex"), least recent first. */
export class TailCache {
  readonly #tails = new Map<string, Tail>();
  readonly #keys: AuthorKeys;

  constructor(authorKeys: AuthorKeys) {
    this.#keys = authorKeys;
  }

  /** Keeps committed entries (in chain order per author) as their authors' tails. */
  remember(chat: string, entries: readonly Entry[]): void {
    for (const e of entries) {
      const k = `${chat}/${this.#keys.of(e.author)}`;
      let tail = this.#tails.get(k);
      this.#tails.delete(k); // re-inserted: Map order is the recency order
      const last = tail?.entries[tail.entries.length - 1];
      if (!tail || last!.seq + 1 !== e.seq) tail = { entries: [], bytes: 0 };
      tail.entries.push(e);
      tail.bytes += e.signed.length + e.sig.length;
      while (
        tail.entries.length > TAIL_ENTRIES ||
        (tail.bytes > TAIL_BYTES && tail.entries.length > 1)
      ) {
        const old = tail.entries.shift()!;
        tail.bytes -= old.signed.length + old.sig.length;
      }
      this.#tails.set(k, tail);
      if (this.#tails.size > MAX_TAILS) this.#tails.delete(this.#tails.keys().next().value!);
    }
  }

  /** An author's committed entries after `after`, at most `limit`; null unless all of them are here. */
  after(chat: string, author: Uint8Array, after: number, limit: number): Entry[] | null {
    const tail = this.#tails.get(`${chat}/${this.#keys.of(author)}`);
    if (!tail) return null;
    const first = tail.entries[0]!.seq;
    const last = tail.entries[tail.entries.length - 1]!.seq;
    if (after + 1 < first || after >= last) return null;
    return tail.entries.slice(after + 1 - first, after + 1 - first + limit);
  }

  /** The committed entry `seq` of `author`, if its tail holds it. */
  at(chat: string, author: Uint8Array, seq: number): Entry | undefined {
    return this.after(chat, author, seq - 1, 1)?.[0];
  }

  /** Drops the chat's tails (the store changed under them). */
  forget(chat: string): void {
    for (const k of this.#tails.keys()) if (k.startsWith(`${chat}/`)) this.#tails.delete(k);
  }
}
