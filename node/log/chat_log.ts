/**
 * The append-only log of every chat on this node.
 *
 * Each author appends only to their own chain (seq 1, 2, … linked by `prev`),
 * so merging entries from anyone is a union: an entry is stored when its
 * signature verifies and it extends its author's chain exactly by one. A second,
 * different entry for a taken author+seq is an equivocation: the first stays,
 * the other is kept aside as evidence.
 *
 * Durability: an entry is reported stored only after the KV commit holding it,
 * and each commit also moves the authors' heads, so a crash at any moment leaves
 * heads and entries consistent. Commits are batched (Deno KV does ~2k single
 * commits/s but ~30k sets/s in batches).
 */
import { RojError, type RojErrorCode } from "../errors.ts";
import type { Signer } from "../identity/mod.ts";
import {
  corrupt,
  keys,
  MAX_COMMIT_BYTES,
  MAX_COMMIT_KEY_BYTES,
  MAX_MUTATIONS,
  type Store,
} from "../store/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import {
  badSignature,
  createEntry,
  decodeEntry,
  decodeUnchecked,
  type Ed25519Verifier,
  type Entry,
  entryCheck,
  entryHash,
} from "./entry.ts";
import { packEntries, unpackEntry } from "./stored_entry.ts";
import { compareEntries } from "./order.ts";
import { verifyChecks } from "./verify.ts";

/** An author's newest entry in a chat. */
export interface Head {
  readonly seq: number;
  readonly hash: Uint8Array;
  readonly lamport: number;
}

/** Signed bytes and signature, as they travel. */
export interface RawEntry {
  readonly signed: Uint8Array;
  readonly sig: Uint8Array;
}

export type RejectCode = Extract<
  RojErrorCode,
  "bad_input" | "bad_signature" | "wrong_chat" | "seq_gap" | "prev_mismatch" | "equivocation"
>;

export interface Rejection {
  readonly code: RejectCode;
  readonly reason: string;
  readonly author?: Uint8Array;
  readonly seq?: number;
}

export interface MergeResult {
  /** Entries newly committed, in the order they were committed. */
  readonly stored: Entry[];
  /** Entries that were already stored, byte for byte. */
  readonly duplicates: number;
  readonly rejected: Rejection[];
}

interface CachedHead {
  readonly author: Uint8Array;
  head: Head | null;
  versionstamp: string | null;
}

/**
 * Remembers the hex of the last author key asked for: entries come in runs by
 * one author, so most lookups compare 32 bytes instead of encoding them.
 */
class AuthorKeys {
  #lastAuthor = new Uint8Array(0);
  #lastKey = "";

  /** Lower-case hex of an author key: the key of the per-author maps. */
  of(a: Uint8Array): string {
    const last = this.#lastAuthor;
    if (a.length === last.length) {
      let i = 0;
      while (i < a.length && a[i] === last[i]) i++;
      if (i === a.length) return this.#lastKey;
    }
    const s = toHex(a);
    this.#lastAuthor = a.slice();
    this.#lastKey = s;
    return s;
  }
}

/** Entries verified and committed per step of a large merge. */
const MERGE_STEP = 500;

/** The rejection for an entry that failed to decode or verify. */
function rejection(err: unknown): Rejection {
  if (!(err instanceof RojError)) throw err;
  return {
    code: err.code === "bad_signature" ? "bad_signature" : "bad_input",
    reason: err.message,
  };
}

function isHead(v: unknown): v is Head {
  const h = v as Head;
  return typeof v === "object" && v !== null && Number.isSafeInteger(h.seq) && h.seq > 0 &&
    h.hash instanceof Uint8Array && h.hash.length === 32 && Number.isSafeInteger(h.lamport);
}

/** Reads an entry that this node stored earlier; its signature was checked on the way in. */
function storedEntry(key: Deno.KvKey, value: unknown): Entry {
  const raw = unpackEntry(value);
  if (raw === null) throw corrupt(key, "entry");
  try {
    return {
      ...decodeEntry(raw.signed),
      signed: raw.signed,
      sig: raw.sig,
      hash: entryHash(raw.signed),
    };
  } catch {
    throw corrupt(key, "entry");
  }
}

/** An entry as sync sends it: its place in the author's chain and its bytes. */
export interface SeqEntry extends RawEntry {
  readonly seq: number;
}

/**
 * An author's newest committed entries in one chat, contiguous up to the head:
 * live sync pushes what was just written, which is read from here instead of
 * the store.
 */
interface Tail {
  entries: Entry[];
  bytes: number;
}

/** At most this many entries and bytes are kept per tail, and this many tails per log. */
const TAIL_ENTRIES = 32;
const TAIL_BYTES = 64 * 1024;
const MAX_TAILS = 256;

export interface MergeOptions {
  /** Store nothing unless every entry can be stored (duplicates aside). @default false */
  allOrNothing?: boolean;
}

export interface ChatLogOptions {
  /** Verifies raw Ed25519 signatures; pass identity's createVerifier() to cache imported keys. */
  verifier?: Ed25519Verifier;
  /** Clock in ms. @default Date.now */
  now?: () => number;
}

export class ChatLog {
  readonly #store: Store;
  readonly #verifier: Ed25519Verifier | undefined;
  readonly #now: () => number;
  /** Per-chat cache of heads with their KV versionstamps; commits check them. */
  readonly #heads = new Map<string, Map<string, CachedHead>>();
  /**
   * Chats whose #heads hold every author's head, so heads() needs no read. The
   * store stays the truth: the cache is filled from it and moved only by this
   * log's commits; one that fails (another process wrote) drops the chat's cache.
   */
  readonly #complete = new Set<string>();
  /** Counts #forget calls per chat, so a read that raced one is not taken as complete. */
  readonly #forgotten = new Map<string, number>();
  readonly #clocks = new Map<string, number>();
  /** Recently committed entries per chat and author ("chat/authorhex"), least recent first. */
  readonly #tails = new Map<string, Tail>();
  readonly #authorKeys = new AuthorKeys();
  /** Serialises writers per chat within this process. */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(store: Store, options: ChatLogOptions = {}) {
    this.#store = store;
    this.#verifier = options.verifier;
    this.#now = options.now ?? Date.now;
  }

  #withLock<T>(chat: string, fn: () => Promise<T>): Promise<T> {
    const prior = this.#locks.get(chat) ?? Promise.resolve();
    const run = prior.then(fn, fn);
    const settled = run.then(() => {}, () => {});
    this.#locks.set(chat, settled);
    settled.then(() => {
      if (this.#locks.get(chat) === settled) this.#locks.delete(chat);
    });
    return run;
  }

  async #loadHeads(chat: string, authors: Uint8Array[]): Promise<Map<string, CachedHead>> {
    let cache = this.#heads.get(chat);
    if (!cache) this.#heads.set(chat, cache = new Map());
    const missing = authors.filter((a) => !cache!.has(this.#authorKeys.of(a)));
    for (let i = 0; i < missing.length; i += 10) {
      const part = missing.slice(i, i + 10);
      const got = await this.#store.kv.getMany<unknown[]>(part.map((a) => keys.head(chat, a)));
      got.forEach((res, j) => {
        if (res.value !== null && !isHead(res.value)) throw corrupt(res.key, "head");
        cache!.set(this.#authorKeys.of(part[j]!), {
          author: part[j]!,
          head: res.value as Head | null,
          versionstamp: res.versionstamp,
        });
      });
    }
    return cache;
  }

  async #loadClock(chat: string): Promise<number> {
    let clock = this.#clocks.get(chat);
    if (clock === undefined) {
      const res = await this.#store.kv.get<unknown>(keys.chatClock(chat));
      if (res.value !== null && !Number.isSafeInteger(res.value)) throw corrupt(res.key, "clock");
      clock = (res.value as number | null) ?? 0;
      this.#clocks.set(chat, clock);
    }
    return clock;
  }

  #forget(chat: string): void {
    this.#heads.delete(chat);
    this.#complete.delete(chat);
    this.#forgotten.set(chat, (this.#forgotten.get(chat) ?? 0) + 1);
    this.#clocks.delete(chat);
    for (const k of this.#tails.keys()) if (k.startsWith(`${chat}/`)) this.#tails.delete(k);
  }

  /** Keeps committed entries (in chain order per author) as their authors' tails. */
  #remember(chat: string, entries: Entry[]): void {
    for (const e of entries) {
      const k = `${chat}/${this.#authorKeys.of(e.author)}`;
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

  /** An author's committed entries after `after`, from its tail; null unless all of them are there. */
  #fromTail(chat: string, author: Uint8Array, after: number, limit: number): Entry[] | null {
    const tail = this.#tails.get(`${chat}/${this.#authorKeys.of(author)}`);
    if (!tail) return null;
    const first = tail.entries[0]!.seq;
    const last = tail.entries[tail.entries.length - 1]!.seq;
    if (after + 1 < first || after >= last) return null;
    return tail.entries.slice(after + 1 - first, after + 1 - first + limit);
  }

  /**
   * Commits entries that already passed every check, in as few atomic batches
   * as the KV limits allow. Each batch also writes the heads it moves, checked
   * against the versionstamps read, so a concurrent writer in another process
   * makes the commit fail instead of forking the chain.
   */
  async #commit(chat: string, entries: Entry[], writing?: () => void): Promise<void> {
    const cache = this.#heads.get(chat)!;
    let i = 0;
    while (i < entries.length) {
      const start = i;
      const op = this.#store.kv.atomic();
      const moved = new Map<string, Entry>();
      let mutations = 1;
      let bytes = 0;
      let keyBytes = 0;
      // Upper bound of one key's encoded size: chat id, a 32-byte author, numbers, framing.
      const keySize = chat.length + 32 + 48;
      for (; i < entries.length; i++) {
        const e = entries[i]!;
        const size = e.signed.length + e.sig.length + 128;
        const k = this.#authorKeys.of(e.author);
        const extra = moved.has(k) ? 1 : 2;
        if (
          moved.size > 0 &&
          (mutations + extra > MAX_MUTATIONS || bytes + size > MAX_COMMIT_BYTES ||
            keyBytes + extra * keySize > MAX_COMMIT_KEY_BYTES ||
            (extra === 2 && moved.size >= 90))
        ) break;
        keyBytes += extra * keySize;
        moved.set(k, e);
        mutations += extra;
        bytes += size;
      }
      const batch = entries.slice(start, i);
      const values = packEntries(batch);
      for (let j = 0; j < batch.length; j++) {
        const e = batch[j]!;
        op.set(keys.entry(chat, e.author, e.seq), values[j]);
      }
      let clock = this.#clocks.get(chat) ?? 0;
      for (const [k, e] of moved) {
        const cached = cache.get(k)!;
        op.check({ key: keys.head(chat, e.author), versionstamp: cached.versionstamp });
        op.set(
          keys.head(chat, e.author),
          { seq: e.seq, hash: e.hash, lamport: e.lamport } satisfies Head,
        );
        clock = Math.max(clock, e.lamport);
      }
      op.set(keys.chatClock(chat), clock);
      const pending = op.commit();
      writing?.(); // the store has the batch: the caller may use the main thread meanwhile
      const res = await pending;
      if (!res.ok) {
        this.#forget(chat);
        throw new RojError(
          "internal",
          "the chat changed under this write (another process?); try again",
          { retryable: true },
        );
      }
      for (const [k, e] of moved) {
        cache.set(k, {
          author: e.author,
          head: { seq: e.seq, hash: e.hash, lamport: e.lamport },
          versionstamp: res.versionstamp,
        });
      }
      this.#clocks.set(chat, clock);
      this.#remember(chat, batch);
    }
  }

  /**
   * Appends new entries by `signer` to `chat`, after everything this node has seen.
   * Resolves once they are committed.
   */
  appendMany(
    chat: string,
    signer: Signer,
    items: ReadonlyArray<{ type: string; body: string }>,
  ): Promise<Entry[]> {
    return this.#withLock(chat, async () => {
      for (let attempt = 0;; attempt++) {
        try {
          const cache = await this.#loadHeads(chat, [signer.publicKey]);
          let clock = await this.#loadClock(chat);
          let head = cache.get(this.#authorKeys.of(signer.publicKey))!.head;
          const made: Entry[] = [];
          const ts = this.#now();
          for (const item of items) {
            const lamport = Math.max(clock, head?.lamport ?? 0) + 1;
            const e = await createEntry(signer, {
              chat,
              author: signer.publicKey,
              seq: (head?.seq ?? 0) + 1,
              prev: head?.hash ?? null,
              lamport,
              ts,
              type: item.type,
              body: item.body,
            });
            made.push(e);
            head = e;
            clock = lamport;
          }
          await this.#commit(chat, made);
          return made;
        } catch (err) {
          if (attempt < 2 && err instanceof RojError && err.retryable) continue;
          throw err;
        }
      }
    });
  }

  /** Appends one entry. @see appendMany */
  async append(chat: string, signer: Signer, type: string, body: string): Promise<Entry> {
    const [e] = await this.appendMany(chat, signer, [{ type, body }]);
    return e!;
  }

  /**
   * Verifies and stores entries from anyone, in any order; returns what was
   * stored, what was already there, and each rejection with its reason.
   * Entries whose predecessor is missing are rejected as `seq_gap` and can be
   * merged again once it arrives.
   */
  merge(
    chat: string,
    raws: ReadonlyArray<RawEntry>,
    options: MergeOptions = {},
  ): Promise<MergeResult> {
    // Decoding, hashing and the first step's signatures happen now, outside the
    // lock, so they overlap an earlier batch's commit; the place in the lock
    // queue is taken now, so batches commit in the order they were handed in.
    // A large batch goes in steps: while the store writes one step (on its own
    // thread), the next step's signatures are checked. Each step sees the heads
    // the one before moved, so the result is that of one big step.
    // A verifier with a batch form (a worker pool) gets every later step at
    // once, to check elsewhere while this thread checks the first one and then
    // stores them one by one.
    // Entries already held byte for byte (a member forwarding what the author
    // sent us, a mailbox fetch overlapping a sync) are counted as duplicates
    // before their signatures are checked: they were checked on the way in.
    const { decoded, rejected } = this.#decode(raws);
    const size = options.allOrNothing ? decoded.length : MERGE_STEP;
    const steps: Entry[][] = [];
    for (let i = 0; i < decoded.length; i += size) steps.push(decoded.slice(i, i + size));
    const verified: Array<Promise<{ candidates: Entry[]; held: number }> | undefined> = [];
    const check = (i: number, here: boolean) => {
      verified[i] = this.#verifyStep(chat, steps[i]!, rejected, here);
      verified[i]!.catch(() => {}); // awaited in turn below, unless an earlier step fails
    };
    if (this.#verifier?.verifyMany !== undefined) {
      for (let i = 1; i < steps.length; i++) check(i, false);
    }
    // A lone step goes to the pool too: there is nothing else to check here meanwhile.
    if (steps.length > 0) check(0, steps.length > 1);
    return this.#withLock(chat, async () => {
      const stored: Entry[] = [];
      let duplicates = 0;
      for (let i = 0; i < steps.length; i++) {
        const { candidates, held } = await verified[i]!;
        duplicates += held;
        if (options.allOrNothing && rejected.length > 0) {
          return { stored: [], duplicates: 0, rejected };
        }
        let writing!: () => void;
        const written = new Promise<void>((resolve) => (writing = resolve));
        const step = this.#mergeStep(chat, candidates, options, writing);
        step.then(writing, writing);
        await written;
        if (i + 1 < steps.length && verified[i + 1] === undefined) {
          check(i + 1, true);
        }
        const r = await step;
        for (const e of r.stored) stored.push(e);
        duplicates += r.duplicates;
        for (const x of r.rejected) rejected.push(x);
      }
      return { stored, duplicates, rejected };
    });
  }

  /** Decodes and hashes every entry, sorted by author then seq; the malformed are rejected. */
  #decode(raws: ReadonlyArray<RawEntry>): { decoded: Entry[]; rejected: Rejection[] } {
    const rejected: Rejection[] = [];
    const keyed: Array<{ k: string; e: Entry }> = [];
    for (const r of raws) {
      try {
        const e = decodeUnchecked(r.signed, r.sig);
        keyed.push({ k: this.#authorKeys.of(e.author), e });
      } catch (err) {
        rejected.push(rejection(err));
      }
    }
    keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.e.seq - b.e.seq));
    return { decoded: keyed.map((x) => x.e), rejected };
  }

  /**
   * Leaves out the entries of a step that are stored already, byte for byte,
   * signature included (as far as the heads in memory tell: an author whose
   * head is not loaded yet is checked in full, and the lock's own duplicate
   * check still runs).
   */
  async #dropHeld(chat: string, step: Entry[]): Promise<{ fresh: Entry[]; held: number }> {
    const heads = this.#heads.get(chat);
    if (!heads) return { fresh: step, held: 0 };
    const fresh: Entry[] = [];
    const lookup: Entry[] = [];
    let held = 0;
    const same = (mine: RawEntry, e: Entry) =>
      bytesEqual(mine.sig, e.sig) && bytesEqual(mine.signed, e.signed);
    for (const e of step) {
      const head = heads.get(this.#authorKeys.of(e.author))?.head;
      if (!head || e.seq > head.seq) {
        fresh.push(e);
        continue;
      }
      const [mine] = this.#fromTail(chat, e.author, e.seq - 1, 1) ?? [];
      if (!mine) lookup.push(e);
      else if (same(mine, e)) held++;
      else fresh.push(e);
    }
    for (let i = 0; i < lookup.length; i += 10) {
      const part = lookup.slice(i, i + 10);
      const got = await this.#store.kv.getMany<unknown[]>(
        part.map((e) => keys.entry(chat, e.author, e.seq)),
      );
      got.forEach((res, j) => {
        const e = part[j]!;
        const mine = res.value === null ? null : unpackEntry(res.value);
        if (mine && same(mine, e)) held++;
        else fresh.push(e);
      });
    }
    // Looked-up entries went last: back to author and seq order, which the store step relies on.
    if (lookup.length > 0) {
      fresh.sort((a, b) => {
        const x = this.#authorKeys.of(a.author), y = this.#authorKeys.of(b.author);
        return x < y ? -1 : x > y ? 1 : a.seq - b.seq;
      });
    }
    return { fresh, held };
  }

  /** Checks the signatures of one step's new entries; resolves with those that may be stored. */
  async #verifyStep(
    chat: string,
    step: Entry[],
    rejected: Rejection[],
    here = true,
  ): Promise<{ candidates: Entry[]; held: number }> {
    const { fresh, held } = await this.#dropHeld(chat, step);
    const entries: Entry[] = [];
    const checks = [];
    for (const e of fresh) {
      try {
        checks.push(entryCheck(e));
        entries.push(e);
      } catch (err) {
        rejected.push(rejection(err));
      }
    }
    const ok = await verifyChecks(checks, this.#verifier, { here });
    const candidates: Entry[] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (!ok[i]) rejected.push(rejection(badSignature(e.seq)));
      else if (e.chat !== chat) {
        rejected.push({
          code: "wrong_chat",
          reason: `entry belongs to chat ${e.chat}, not ${chat}`,
          author: e.author,
          seq: e.seq,
        });
      } else candidates.push(e);
    }
    return { candidates, held };
  }

  /** Stores one step's verified entries, retrying when another writer got in between. */
  async #mergeStep(
    chat: string,
    candidates: Entry[],
    options: MergeOptions,
    writing: () => void,
  ): Promise<MergeResult> {
    if (candidates.length === 0) return { stored: [], duplicates: 0, rejected: [] };
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#mergeLocked(chat, candidates, [], options, writing);
      } catch (err) {
        if (attempt < 2 && err instanceof RojError && err.retryable) continue;
        throw err;
      }
    }
  }

  async #mergeLocked(
    chat: string,
    candidates: Entry[],
    rejected: Rejection[],
    options: MergeOptions,
    writing?: () => void,
  ): Promise<MergeResult> {
    const authors = new Map<string, Uint8Array>();
    for (const e of candidates) authors.set(this.#authorKeys.of(e.author), e.author);
    const cache = await this.#loadHeads(chat, [...authors.values()]);
    await this.#loadClock(chat);
    const tip = new Map<string, Head | null>();
    for (const k of authors.keys()) tip.set(k, cache.get(k)!.head);
    const accepted: Entry[] = [];
    const acceptedAt = new Map<string, Entry>();
    const conflicts: Entry[] = [];
    let duplicates = 0;
    for (const e of candidates) {
      const k = this.#authorKeys.of(e.author);
      const head = tip.get(k)!;
      const where = { author: e.author, seq: e.seq };
      if (head && e.seq <= head.seq) {
        const mine = acceptedAt.get(`${k}/${e.seq}`) ?? await this.#entryAt(chat, e.author, e.seq);
        if (mine && bytesEqual(mine.hash, e.hash)) duplicates++;
        else {
          conflicts.push(e);
          rejected.push({
            code: "equivocation",
            reason: `author already has a different entry ${e.seq}; the first is kept`,
            ...where,
          });
        }
        continue;
      }
      const expected = (head?.seq ?? 0) + 1;
      if (e.seq !== expected) {
        rejected.push({
          code: "seq_gap",
          reason: `entry ${e.seq} arrived but the author's next is ${expected}`,
          ...where,
        });
        continue;
      }
      if (head && !bytesEqual(e.prev!, head.hash)) {
        rejected.push({
          code: "prev_mismatch",
          reason: `entry ${e.seq} does not follow the author's entry ${head.seq}`,
          ...where,
        });
        continue;
      }
      if (head && e.lamport <= head.lamport) {
        rejected.push({
          code: "prev_mismatch",
          reason: `entry ${e.seq} has a clock that does not advance`,
          ...where,
        });
        continue;
      }
      accepted.push(e);
      acceptedAt.set(`${k}/${e.seq}`, e);
      tip.set(k, e);
    }
    if (options.allOrNothing && rejected.length > 0) return { stored: [], duplicates, rejected };
    await this.#commit(chat, accepted, writing);
    if (conflicts.length > 0) {
      const op = this.#store.kv.atomic();
      for (const c of conflicts.slice(0, 100)) {
        op.set(
          keys.conflict(chat, c.author, c.seq, c.hash),
          { signed: c.signed, sig: c.sig } satisfies RawEntry,
        );
      }
      await op.commit();
    }
    return { stored: accepted, duplicates, rejected };
  }

  async #entryAt(chat: string, author: Uint8Array, seq: number): Promise<Entry | null> {
    const [recent] = this.#fromTail(chat, author, seq - 1, 1) ?? [];
    if (recent) return recent;
    const res = await this.#store.kv.get<unknown>(keys.entry(chat, author, seq));
    return res.value === null ? null : storedEntry(res.key, res.value);
  }

  /**
   * Every author's head in a chat, keyed by hex of the author key. Read from
   * the store once, then kept in step by this log's commits.
   */
  async heads(chat: string): Promise<Map<string, Head & { author: Uint8Array }>> {
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
        const k = this.#authorKeys.of(c.author);
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

  /** An author's entries with seq > `after`, in seq order, at most `limit`. */
  async entriesAfter(
    chat: string,
    author: Uint8Array,
    after: number,
    limit = 1000,
  ): Promise<Entry[]> {
    const recent = this.#fromTail(chat, author, after, limit);
    if (recent) return recent;
    const out: Entry[] = [];
    for await (const res of this.#listAfter(chat, author, after, limit)) {
      out.push(storedEntry(res.key, res.value));
    }
    return out;
  }

  /**
   * The same entries as {@linkcode entriesAfter}, only their seq and bytes: for
   * sending them on, without decoding each.
   */
  async rawEntriesAfter(
    chat: string,
    author: Uint8Array,
    after: number,
    limit = 1000,
  ): Promise<SeqEntry[]> {
    const recent = this.#fromTail(chat, author, after, limit);
    if (recent) return recent;
    const out: SeqEntry[] = [];
    for await (const res of this.#listAfter(chat, author, after, limit)) {
      const raw = unpackEntry(res.value);
      const seq = res.key[3];
      if (raw === null || typeof seq !== "number") throw corrupt(res.key, "entry");
      out.push({ seq, signed: raw.signed, sig: raw.sig });
    }
    return out;
  }

  #listAfter(chat: string, author: Uint8Array, after: number, limit: number) {
    return this.#store.kv.list<unknown>({
      start: keys.entry(chat, author, after + 1),
      end: [...keys.authorEntries(chat, author), Number.MAX_SAFE_INTEGER],
    }, { limit, batchSize: Math.min(limit, 500) });
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
  async read(chat: string, options: { last?: number } = {}): Promise<Entry[]> {
    const out: Entry[] = [];
    if (options.last === undefined) {
      const iter = this.#store.kv.list<unknown>({ prefix: keys.entries(chat) }, { batchSize: 500 });
      for await (const res of iter) out.push(storedEntry(res.key, res.value));
      return out.sort(compareEntries);
    }
    const last = options.last;
    if (last <= 0) return out;
    // The newest `last` overall are among the newest `last` of each author.
    for (const author of await this.#storedAuthors(chat)) {
      const iter = this.#store.kv.list<unknown>({ prefix: keys.authorEntries(chat, author) }, {
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
   * out `except`'s (one's own); counting stops at `limit`.
   */
  async countNewer(
    chat: string,
    lamport: number,
    options: { except?: Uint8Array; limit?: number } = {},
  ): Promise<number> {
    const limit = options.limit ?? 10_000;
    let n = 0;
    for (const author of await this.#storedAuthors(chat)) {
      if (options.except && bytesEqual(author, options.except)) continue;
      // Newest first, until the author's clock is at or below the mark.
      const iter = this.#store.kv.list<unknown>({ prefix: keys.authorEntries(chat, author) }, {
        reverse: true,
        batchSize: 100,
      });
      for await (const res of iter) {
        const raw = unpackEntry(res.value);
        let clock: number;
        try {
          if (raw === null) throw new TypeError();
          clock = decodeEntry(raw.signed).lamport;
        } catch {
          throw corrupt(res.key, "entry");
        }
        if (clock <= lamport) break;
        if (++n >= limit) return n;
      }
    }
    return n;
  }

  /** The authors with entries in `chat`, as the store holds them now. */
  async #storedAuthors(chat: string): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for await (const res of this.#store.kv.list<unknown>({ prefix: keys.heads(chat) })) {
      const author = res.key[2];
      if (!(author instanceof Uint8Array)) throw corrupt(res.key, "head key");
      out.push(author);
    }
    return out;
  }

  /** Evidence of equivocation: the rejected second entries. */
  async conflicts(chat: string): Promise<Entry[]> {
    const out: Entry[] = [];
    for await (const res of this.#store.kv.list<unknown>({ prefix: keys.conflicts(chat) })) {
      out.push(storedEntry(res.key, res.value));
    }
    return out;
  }
}
