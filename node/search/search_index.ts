/**
 * The full-text index of this node's messages: npm MiniSearch (an inverted
 * index with prefix search and BM25 ranking) over each message's text, with
 * the few facts a hit shows kept beside it. In memory only: it holds group
 * messages in the clear, so it is never written anywhere; a restart rebuilds
 * it from the log (search_service.ts). Bounded: at most MAX_INDEXED messages
 * or MAX_INDEXED_CHARS characters in all (past either the earliest indexed
 * go), MAX_INDEXED_TEXT characters of each.
 */
import MiniSearch from "minisearch";
import { indexTerm, runQuery, type SearchDoc, type SearchHit, type SearchQuery } from "./query.ts";

/** Messages the index holds at most; past that the earliest indexed are dropped. */
export const MAX_INDEXED = 200_000;
/** Characters of one message indexed and kept for context (the rest is not searched). */
export const MAX_INDEXED_TEXT = 2_000;
/** Characters kept over all messages (long messages fill it before MAX_INDEXED does). */
export const MAX_INDEXED_CHARS = 20_000_000;

export class SearchIndex {
  readonly #ms = new MiniSearch<SearchDoc>({
    fields: ["text"],
    idField: "id",
    processTerm: indexTerm,
  });
  readonly #docs = new Map<string, SearchDoc>();
  readonly #max: number;
  readonly #maxChars: number;
  #chars = 0;

  /**
   * @param max messages held at most. @default MAX_INDEXED
   * @param maxChars characters of text held at most. @default MAX_INDEXED_CHARS
   */
  constructor(max = MAX_INDEXED, maxChars = MAX_INDEXED_CHARS) {
    this.#max = max;
    this.#maxChars = maxChars;
  }

  /** Characters of text held. */
  get chars(): number {
    return this.#chars;
  }

  get size(): number {
    return this.#docs.size;
  }

  has(id: string): boolean {
    return this.#docs.has(id);
  }

  /** Indexes a message once (a second add of the same id is ignored). */
  add(doc: SearchDoc): void {
    if (this.#docs.has(doc.id)) return;
    const d = doc.text.length > MAX_INDEXED_TEXT
      ? { ...doc, text: doc.text.slice(0, MAX_INDEXED_TEXT) }
      : doc;
    this.#docs.set(d.id, d);
    this.#chars += d.text.length;
    this.#ms.add(d);
    while (this.#docs.size > this.#max || this.#chars > this.#maxChars) {
      // A Map iterates in insertion order: the first key is the earliest indexed.
      this.remove(this.#docs.keys().next().value!);
    }
  }

  /** Forgets a message (a deleted one, or a chat that went away). */
  remove(id: string): void {
    const d = this.#docs.get(id);
    if (!d) return;
    this.#docs.delete(id);
    this.#chars -= d.text.length;
    this.#ms.discard(id);
  }

  /** Forgets every message of chat `chat` (its id). */
  removeChat(chat: string): void {
    for (const d of [...this.#docs.values()]) if (d.chat === chat) this.remove(d.id);
  }

  search(q: SearchQuery): { hits: SearchHit[]; total: number; ignored: string[] } {
    return runQuery(this.#ms, this.#docs, q);
  }
}
