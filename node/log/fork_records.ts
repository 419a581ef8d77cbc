/**
 * Evidence of equivocation, bounded: the first fork per author per chat.
 *
 * A fork is two different entries that an author signed for one place of
 * their chain. The log keeps the first it stored; the other is evidence that
 * the author's key (or a copy of it) signed both. One such pair proves it, so
 * one is kept per author and chat, and further twins of that author in that
 * chat are refused without being stored (or their signatures checked): a
 * contact who floods twins fills nothing. Stores written before this bound
 * kept every twin under `conflict` keys; the first per author is folded into
 * a fork record on first use and the rest deleted.
 *
 * A record (key `fork`/chat/author):
 *
 *   { seq, kept: hash of the entry held, twin: the other entry (packed, see
 *     stored_entry.ts), seen: ms since the epoch when this node first saw it }
 */
import { batchDelete, corrupt, keys, type Store } from "../store/mod.ts";
import type { Entry } from "./entry.ts";
import { packEntry, storedEntry } from "./stored_entry.ts";

/** An author's first fork in a chat, as recorded. */
export interface Fork {
  /** The chat's id. */
  readonly chat: string;
  readonly author: Uint8Array;
  readonly seq: number;
  /** The hash of the entry this log holds at that place (the one it had first). */
  readonly kept: Uint8Array;
  /** The other entry, signed by the author: the evidence. */
  readonly twin: Entry;
  /** When this node first saw the twin, in ms since the epoch. */
  readonly seen: number;
}

interface ForkValue {
  readonly seq: number;
  readonly kept: Uint8Array;
  readonly twin: Uint8Array;
  readonly seen: number;
}

export interface ForkRecordsDeps {
  readonly store: Store;
  /** An author key's hex. */
  keyOf(author: Uint8Array): string;
  /** The time a new record carries. */
  now(): number;
  /** The entry the log holds at an author's seq. */
  entryAt(chat: string, author: Uint8Array, seq: number): Promise<Entry | null>;
}

/** The fork records of every chat, with the authors on record cached per chat. */
export class ForkRecords {
  readonly #d: ForkRecordsDeps;
  /** Per chat, the authors (hex) with a fork on record, once loaded. */
  readonly #loading = new Map<string, Promise<Set<string>>>();
  readonly #known = new Map<string, Set<string>>();

  constructor(deps: ForkRecordsDeps) {
    this.#d = deps;
  }

  /** The authors (hex) with a fork on record in `chat`, when already loaded. */
  known(chat: string): ReadonlySet<string> | undefined {
    return this.#known.get(chat);
  }

  /** The authors (hex) with a fork on record in `chat`: read (and old rows folded in) once. */
  authors(chat: string): Promise<Set<string>> {
    let p = this.#loading.get(chat);
    if (!p) {
      p = this.#load(chat);
      this.#loading.set(chat, p);
      p.then((set) => this.#known.set(chat, set), () => this.#loading.delete(chat));
    }
    return p;
  }

  async #load(chat: string): Promise<Set<string>> {
    const set = new Set<string>();
    for await (const res of this.#d.store.kv.list<unknown>({ prefix: keys.forks(chat) })) {
      const author = res.key[2];
      if (!(author instanceof Uint8Array) || author.length !== 32) throw corrupt(res.key, "fork");
      set.add(this.#d.keyOf(author));
    }
    await this.#fold(chat, set);
    return set;
  }

  /** Schema-2 `conflict` rows: the first per author becomes its record; all are deleted. */
  async #fold(chat: string, set: Set<string>): Promise<void> {
    const kv = this.#d.store.kv;
    const doomed = batchDelete(kv);
    for await (const res of kv.list<unknown>({ prefix: keys.conflicts(chat) })) {
      const [, , author, seq] = res.key;
      if (author instanceof Uint8Array && author.length === 32 && typeof seq === "number") {
        const k = this.#d.keyOf(author);
        if (!set.has(k)) {
          try {
            const twin = storedEntry(res.key, res.value);
            if (await this.#write(chat, twin)) set.add(k);
          } catch { /* a damaged old row is only evidence lost */ }
        }
      }
      await doomed.add(res.key);
    }
    await doomed.flush();
  }

  /**
   * Records the first twin of each author in `twins` that has no fork on
   * record in `chat` yet; resolves with the new records. A twin whose
   * counterpart is not stored (a batch refused whole) proves nothing here.
   */
  async record(chat: string, twins: readonly Entry[]): Promise<Fork[]> {
    const set = await this.authors(chat);
    const out: Fork[] = [];
    for (const twin of twins) {
      const k = this.#d.keyOf(twin.author);
      if (set.has(k)) continue;
      const fork = await this.#write(chat, twin);
      if (fork === null) continue;
      set.add(k);
      if (fork.twin === twin) out.push(fork);
    }
    return out;
  }

  /**
   * Writes the record of `twin`, unless the author has one (another process):
   * resolves with the record written, the one found, or null when the entry it
   * forks from is not stored.
   */
  async #write(chat: string, twin: Entry): Promise<Fork | null> {
    const kept = await this.#d.entryAt(chat, twin.author, twin.seq);
    if (kept === null || kept.hash.every((b, i) => b === twin.hash[i])) return null;
    const key = keys.fork(chat, twin.author);
    const fork: Fork = {
      chat,
      author: twin.author,
      seq: twin.seq,
      kept: kept.hash,
      twin,
      seen: this.#d.now(),
    };
    const value: ForkValue = {
      seq: fork.seq,
      kept: fork.kept,
      twin: packEntry(twin.signed, twin.sig),
      seen: fork.seen,
    };
    const res = await this.#d.store.kv.atomic().check({ key, versionstamp: null }).set(key, value)
      .commit();
    if (res.ok) return fork;
    const held = await this.#d.store.kv.get<unknown>(key);
    return held.value === null ? null : toFork(chat, held.key, held.value);
  }

  /** The fork on record for `author` in `chat`, if any (one read only when there is one). */
  async of(chat: string, author: Uint8Array): Promise<Fork | null> {
    if (!(await this.authors(chat)).has(this.#d.keyOf(author))) return null;
    const res = await this.#d.store.kv.get<unknown>(keys.fork(chat, author));
    return res.value === null ? null : toFork(chat, res.key, res.value);
  }

  /** Every fork on record in `chat`, by author key order. */
  async all(chat: string): Promise<Fork[]> {
    await this.authors(chat);
    const out: Fork[] = [];
    for await (const res of this.#d.store.kv.list<unknown>({ prefix: keys.forks(chat) })) {
      out.push(toFork(chat, res.key, res.value));
    }
    return out;
  }
}

/** A stored record. @throws {RojError} store_corrupt when it is not one */
function toFork(chat: string, key: Deno.KvKey, value: unknown): Fork {
  const v = value as ForkValue;
  const author = key[2];
  if (
    !(author instanceof Uint8Array) || typeof value !== "object" || value === null ||
    !Number.isSafeInteger(v.seq) || !(v.kept instanceof Uint8Array) || v.kept.length !== 32 ||
    !Number.isSafeInteger(v.seen)
  ) throw corrupt(key, "fork");
  const twin = storedEntry(key, v.twin);
  return { chat, author, seq: v.seq, kept: v.kept, twin, seen: v.seen };
}
