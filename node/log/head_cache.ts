/**
 * Each chat's author heads and Lamport clock, as the store holds them, with
 * the KV versionstamps a commit checks. The store stays the truth: the cache
 * is filled from it and moved only by this log's commits; a commit that fails
 * (another process wrote) drops the chat's cache.
 */
import { corrupt, keys, type Store } from "../store/mod.ts";
import type { AuthorKeys } from "./author_keys.ts";
import type { Entry } from "./entry.ts";

/** An author's newest entry in a chat. */
export interface Head {
  readonly seq: number;
  readonly hash: Uint8Array;
  readonly lamport: number;
}

/** A head as cached: null while the author has none, with the versionstamp it was read at. */
export interface CachedHead {
  readonly author: Uint8Array;
  head: Head | null;
  versionstamp: string | null;
}

/** Whether a stored value is a head. */
export function isHead(v: unknown): v is Head {
  const h = v as Head;
  return typeof v === "object" && v !== null && Number.isSafeInteger(h.seq) && h.seq > 0 &&
    h.hash instanceof Uint8Array && h.hash.length === 32 && Number.isSafeInteger(h.lamport);
}

/** Per-chat heads with their versionstamps, and per-chat clocks. */
export class HeadCache {
  readonly #store: Store;
  readonly #keys: AuthorKeys;
  readonly #heads = new Map<string, Map<string, CachedHead>>();
  /** Chats whose #heads hold every author's head, so all() needs no read. */
  readonly #complete = new Set<string>();
  /** Counts forget calls per chat, so a read that raced one is not taken as complete. */
  readonly #forgotten = new Map<string, number>();
  readonly #clocks = new Map<string, number>();

  constructor(store: Store, authorKeys: AuthorKeys) {
    this.#store = store;
    this.#keys = authorKeys;
  }

  /** The chat's cached heads (by author hex), or undefined when none was loaded. */
  of(chat: string): Map<string, CachedHead> | undefined {
    return this.#heads.get(chat);
  }

  /** Loads the heads of `authors` not cached yet; resolves with the chat's cache. */
  async load(chat: string, authors: Uint8Array[]): Promise<Map<string, CachedHead>> {
    let cache = this.#heads.get(chat);
    if (!cache) this.#heads.set(chat, cache = new Map());
    const missing = authors.filter((a) => !cache!.has(this.#keys.of(a)));
    for (let i = 0; i < missing.length; i += 10) {
      const part = missing.slice(i, i + 10);
      const got = await this.#store.kv.getMany<unknown[]>(part.map((a) => keys.head(chat, a)));
      got.forEach((res, j) => {
        if (res.value !== null && !isHead(res.value)) throw corrupt(res.key, "head");
        cache!.set(this.#keys.of(part[j]!), {
          author: part[j]!,
          head: res.value as Head | null,
          versionstamp: res.versionstamp,
        });
      });
    }
    return cache;
  }

  /** The chat's Lamport clock, read from the store the first time. */
  async loadClock(chat: string): Promise<number> {
    let clock = this.#clocks.get(chat);
    if (clock === undefined) {
      const res = await this.#store.kv.get<unknown>(keys.chatClock(chat));
      if (res.value !== null && !Number.isSafeInteger(res.value)) throw corrupt(res.key, "clock");
      clock = (res.value as number | null) ?? 0;
      this.#clocks.set(chat, clock);
    }
    return clock;
  }

  /** The chat's clock as cached (0 before loadClock). */
  clock(chat: string): number {
    return this.#clocks.get(chat) ?? 0;
  }

  /** A commit at `versionstamp` moved these heads (by author hex) and the clock. */
  committed(chat: string, moved: ReadonlyMap<string, Entry>, versionstamp: string, clock: number) {
    const cache = this.#heads.get(chat)!;
    for (const [k, e] of moved) {
      cache.set(k, {
        author: e.author,
        head: { seq: e.seq, hash: e.hash, lamport: e.lamport },
        versionstamp,
      });
    }
    this.#clocks.set(chat, clock);
  }

  /** Drops what is cached of the chat (the store changed under it). */
  forget(chat: string): void {
    this.#heads.delete(chat);
    this.#complete.delete(chat);
    this.#forgotten.set(chat, (this.#forgotten.get(chat) ?? 0) + 1);
    this.#clocks.delete(chat);
  }

  /** Every author's head in a chat, keyed by author hex: read once, then kept in step. */
  async all(chat: string): Promise<Map<string, Head & { author: Uint8Array }>> {
    if (!this.#complete.has(chat)) {
      const forgotten = this.#forgotten.get(chat);
      const listed: CachedHead[] = [];
      for await (const res of this.#store.kv.list<unknown>({ prefix: keys.heads(chat) })) {
        if (!isHead(res.value)) throw corrupt(res.key, "head");
        const author = res.key[2];
        if (!(author instanceof Uint8Array)) throw corrupt(res.key, "head key");
        const { seq, hash, lamport } = res.value;
        listed.push({ author, head: { seq, hash, lamport }, versionstamp: res.versionstamp });
      }
      let cache = this.#heads.get(chat);
      if (!cache) this.#heads.set(chat, cache = new Map());
      // A commit that landed while we read has put newer heads in already.
      for (const c of listed) {
        const k = this.#keys.of(c.author);
        const known = cache.get(k);
        if (!known || known.head === null) cache.set(k, c);
      }
      if (this.#forgotten.get(chat) === forgotten) this.#complete.add(chat);
    }
    const out = new Map<string, Head & { author: Uint8Array }>();
    for (const [k, c] of this.#heads.get(chat) ?? []) {
      if (c.head) out.set(k, { ...c.head, author: c.author });
    }
    return out;
  }
}
