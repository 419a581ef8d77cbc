/**
 * The append-only log of every chat on this node.
 *
 * Each author appends only to their own chain (seq 1, 2, … linked by `prev`),
 * so merging entries from anyone is a union: an entry is stored when its
 * signature verifies, it extends its author's chain exactly by one and it
 * does not move the chat's clock too far (clock_bound.ts). A second, different
 * entry for a taken author+seq is an equivocation (a fork): the first stays,
 * and the first such pair per author and chat is kept as evidence
 * (fork_records.ts); later twins of that author there are refused unrecorded.
 *
 * Durability: an entry is reported stored only after the KV commit holding it,
 * and each commit also moves the authors' heads, so a crash at any moment leaves
 * heads and entries consistent. Commits are batched (Deno KV does ~2k single
 * commits/s but ~30k sets/s in batches; commit_plan.ts).
 *
 * The parts: head_cache.ts (heads and clocks with their versionstamps),
 * tail_cache.ts (each author's newest entries), chain_check.ts (the chain
 * rules), merge_input.ts (decoding and signatures), log_reads.ts (reading
 * from the store).
 */
import { type Clock, systemClock } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import type { Signer } from "../identity/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { AuthorKeys } from "./author_keys.ts";
import { checkChains } from "./chain_check.ts";
import { nextLamport } from "./clock_bound.ts";
import { planCommits } from "./commit_plan.ts";
import { createEntry, type Ed25519Verifier, type Entry } from "./entry.ts";
import { type Fork, ForkRecords } from "./fork_records.ts";
import { type Head, HeadCache } from "./head_cache.ts";
import * as reads from "./log_reads.ts";
import { decodeSorted, verifyCandidates } from "./merge_input.ts";
import { moveAside } from "./set_aside.ts";
import type { MergeOptions, MergeResult, Rejection } from "./merge_result.ts";
import {
  packEntries,
  type RawEntry,
  type SeqEntry,
  storedEntry,
  unpackEntry,
} from "./stored_entry.ts";
import { TailCache } from "./tail_cache.ts";

/** Entries verified and committed per step of a large merge. */
const MERGE_STEP = 500;

export interface ChatLogOptions {
  /** Verifies raw Ed25519 signatures; pass identity's createVerifier() to cache imported keys. */
  verifier?: Ed25519Verifier;
  /** Dates appended entries unless `now` is given. @default systemClock */
  clock?: Clock;
  /** The time appended entries (and fork records) carry, in ms. @default clock.now */
  now?: () => number;
  /** Told of each fork when it is first recorded. @see ChatLog.onFork */
  onFork?: (fork: Fork) => void;
}

/** How an append may go: see {@linkcode ChatLog.appendMany}. */
export interface AppendOptions {
  /** Not checked by the gate (the identity guard's own re-base). */
  readonly ungated?: boolean;
  /** A key set to true in the same commit (a marker that must be durable with the entries). */
  readonly alsoSet?: Deno.KvKey;
  /**
   * Handed the entries as soon as they are signed, just before their commit
   * starts (to push them meanwhile, chats/commit_overlap.ts). Once they went out
   * a failed commit is not tried again with new entries: that would sign a
   * second, different entry for a seq the peer may hold.
   */
  readonly signed?: (made: Entry[], committed: Promise<void>) => void;
}

/** One entry to append: ts defaults to now (a re-based message keeps its own). */
export interface AppendItem {
  readonly type: string;
  readonly body: string;
  readonly ts?: number;
}

export class ChatLog {
  readonly #store: Store;
  readonly #verifier: Ed25519Verifier | undefined;
  readonly #now: () => number;
  readonly #authorKeys = new AuthorKeys();
  readonly #heads: HeadCache;
  readonly #tails: TailCache;
  readonly #forks: ForkRecords;
  #onFork: ((fork: Fork) => void) | undefined;
  #gate: ((chat: string) => void) | undefined;
  /** Serialises writers per chat within this process. */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(store: Store, options: ChatLogOptions = {}) {
    this.#store = store;
    this.#verifier = options.verifier;
    const clock = options.clock ?? systemClock;
    this.#now = options.now ?? (() => clock.now());
    this.#heads = new HeadCache(store, this.#authorKeys);
    this.#tails = new TailCache(this.#authorKeys);
    this.#forks = new ForkRecords({
      store,
      keyOf: this.#keyOf,
      now: this.#now,
      entryAt: (chat, author, seq) => this.#entryAt(chat, author, seq),
    });
    this.#onFork = options.onFork;
  }

  /**
   * Who is told of each fork when it is first recorded (once per author and
   * chat); set by whoever shows forks to the person.
   */
  set onFork(listener: ((fork: Fork) => void) | undefined) {
    this.#onFork = listener;
  }

  /**
   * Checked before every local append (it throws to refuse one): the
   * identity guard stops a node whose key also writes elsewhere.
   */
  set gate(check: ((chat: string) => void) | undefined) {
    this.#gate = check;
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

  /** Resolves once every write under way when called has settled. */
  async settled(): Promise<void> {
    await Promise.all([...this.#locks.values()]);
  }

  #forget(chat: string): void {
    this.#heads.forget(chat);
    this.#tails.forget(chat);
  }

  /**
   * Commits entries that already passed every check, in as few atomic batches
   * as the KV limits allow. Each batch also writes the heads it moves, checked
   * against the versionstamps read, so a concurrent writer in another process
   * makes the commit fail instead of forking the chain.
   */
  async #commit(
    chat: string,
    entries: Entry[],
    writing?: () => void,
    alsoSet?: Deno.KvKey,
  ): Promise<void> {
    const cache = this.#heads.of(chat)!;
    for (const { entries: batch, moved } of planCommits(chat, entries, this.#keyOf)) {
      const op = this.#store.kv.atomic();
      if (alsoSet) op.set(alsoSet, true);
      alsoSet = undefined;
      const values = packEntries(batch);
      for (let j = 0; j < batch.length; j++) {
        const e = batch[j]!;
        op.set(keys.entry(chat, e.author, e.seq), values[j]);
      }
      let clock = this.#heads.clock(chat);
      for (const [k, e] of moved) {
        op.check({ key: keys.head(chat, e.author), versionstamp: cache.get(k)!.versionstamp });
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
      this.#heads.committed(chat, moved, res.versionstamp, clock);
      this.#tails.remember(chat, batch);
    }
  }

  readonly #keyOf = (author: Uint8Array) => this.#authorKeys.of(author);

  /**
   * Appends new entries by `signer` to `chat`, after everything this node has seen.
   * Resolves once they are committed.
   */
  appendMany(
    chat: string,
    signer: Signer,
    items: ReadonlyArray<AppendItem>,
    options: AppendOptions = {},
  ): Promise<Entry[]> {
    if (!options.ungated) this.#gate?.(chat);
    return this.#withLock(chat, async () => {
      let out = false;
      for (let attempt = 0;; attempt++) {
        try {
          const cache = await this.#heads.load(chat, [signer.publicKey]);
          let clock = await this.#heads.loadClock(chat);
          let head = cache.get(this.#keyOf(signer.publicKey))!.head;
          const made: Entry[] = [];
          const ts = this.#now();
          for (const item of items) {
            // Never fails for what others sent: see clock_bound.ts.
            const lamport = nextLamport(clock, head?.lamport ?? 0);
            const e = await createEntry(signer, {
              chat,
              author: signer.publicKey,
              seq: (head?.seq ?? 0) + 1,
              prev: head?.hash ?? null,
              lamport,
              ts: item.ts ?? ts,
              type: item.type,
              body: item.body,
            });
            made.push(e);
            head = e;
            clock = Math.max(clock, lamport);
          }
          if (options.signed) {
            // Handed out before the commit starts, so the push leaves first: building the
            // commit and the store's write would otherwise delay it. "Committed" settles with it.
            out = true;
            let settle!: (failed?: unknown) => void;
            const committed = new Promise<void>((resolve, reject) =>
              settle = (failed) => failed === undefined ? resolve() : reject(failed)
            );
            committed.catch(() => {}); // the caller's to await
            options.signed(made, committed);
            try {
              await this.#commit(chat, made, undefined, options.alsoSet);
            } catch (err) {
              settle(err ?? new Error("commit failed"));
              throw err;
            }
            settle();
          } else await this.#commit(chat, made, undefined, options.alsoSet);
          return made;
        } catch (err) {
          if (!out && attempt < 2 && err instanceof RojError && err.retryable) continue;
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
    // A verifier with a batch form (a worker pool) gets every step at once, the
    // first too, to check elsewhere while this thread decodes, stores and shows
    // what came before (checking the first step here made this thread the
    // bottleneck of a catch-up: its other work per entry is about as long).
    // Entries already held byte for byte (a member forwarding what the author
    // sent us, a mailbox fetch overlapping a sync) are counted as duplicates
    // before their signatures are checked: they were checked on the way in.
    const { decoded, rejected } = decodeSorted(raws, this.#keyOf);
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
    if (steps.length > 0) check(0, false);
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

  /**
   * Leaves out the entries of a step that are stored already, byte for byte,
   * signature included (as far as the heads in memory tell: an author whose
   * head is not loaded yet is checked in full, and the lock's own duplicate
   * check still runs).
   */
  async #dropHeld(chat: string, step: Entry[]): Promise<{ fresh: Entry[]; held: number }> {
    const heads = this.#heads.of(chat);
    if (!heads) return { fresh: step, held: 0 };
    const fresh: Entry[] = [];
    const lookup: Entry[] = [];
    let held = 0;
    const same = (mine: RawEntry, e: Entry) =>
      bytesEqual(mine.sig, e.sig) && bytesEqual(mine.signed, e.signed);
    for (const e of step) {
      const head = heads.get(this.#keyOf(e.author))?.head;
      if (!head || e.seq > head.seq) {
        fresh.push(e);
        continue;
      }
      const mine = this.#tails.at(chat, e.author, e.seq);
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
        const x = this.#keyOf(a.author), y = this.#keyOf(b.author);
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
    const candidates = await verifyCandidates(
      chat,
      this.#dropForked(chat, fresh, rejected),
      this.#verifier,
      here,
      rejected,
    );
    return { candidates, held };
  }

  /**
   * Refuses, without checking their signatures, the twins of authors whose
   * fork in `chat` is on record already (as far as memory tells: the chain
   * rules catch the rest): one pair is evidence enough.
   */
  #dropForked(chat: string, fresh: Entry[], rejected: Rejection[]): Entry[] {
    const forked = this.#forks.known(chat);
    const heads = this.#heads.of(chat);
    if (!forked || forked.size === 0 || !heads) return fresh;
    return fresh.filter((e) => {
      const k = this.#keyOf(e.author);
      const head = heads.get(k)?.head;
      // Not held byte for byte (#dropHeld): a different entry at a taken place.
      if (!forked.has(k) || !head || e.seq > head.seq) return true;
      rejected.push({
        code: "equivocation",
        reason: `author already has a different entry ${e.seq}, and a fork on record here; ` +
          "no more of it is taken",
        author: e.author,
        seq: e.seq,
      });
      return false;
    });
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
        return await this.#mergeLocked(chat, candidates, options, writing);
      } catch (err) {
        if (attempt < 2 && err instanceof RojError && err.retryable) continue;
        throw err;
      }
    }
  }

  async #mergeLocked(
    chat: string,
    candidates: Entry[],
    options: MergeOptions,
    writing?: () => void,
  ): Promise<MergeResult> {
    const authors = new Map<string, Uint8Array>();
    for (const e of candidates) authors.set(this.#keyOf(e.author), e.author);
    const cache = await this.#heads.load(chat, [...authors.values()]);
    const clock = await this.#heads.loadClock(chat);
    const tips = new Map<string, Head | null>();
    for (const k of authors.keys()) tips.set(k, cache.get(k)!.head);
    const { accepted, conflicts, duplicates, rejected } = await checkChains(
      candidates,
      tips,
      this.#keyOf,
      (author, seq) => this.#entryAt(chat, author, seq),
      clock,
    );
    const refused = options.allOrNothing === true && rejected.length > 0;
    if (!refused) await this.#commit(chat, accepted, writing);
    // Evidence is kept even when the batch is refused whole: the pair proves the fork.
    if (conflicts.length > 0) await this.#recordForks(chat, conflicts);
    return refused
      ? { stored: [], duplicates, rejected }
      : { stored: accepted, duplicates, rejected };
  }

  async #recordForks(chat: string, twins: Entry[]): Promise<void> {
    for (const fork of await this.#forks.record(chat, twins)) {
      try {
        this.#onFork?.(fork);
      } catch { /* the listener's failure is its own */ }
    }
  }

  async #entryAt(chat: string, author: Uint8Array, seq: number): Promise<Entry | null> {
    const recent = this.#tails.at(chat, author, seq);
    if (recent) return recent;
    const res = await this.#store.kv.get<unknown>(keys.entry(chat, author, seq));
    return res.value === null ? null : storedEntry(res.key, res.value);
  }

  /**
   * Every author's head in a chat, keyed by hex of the author key. Read from
   * the store once, then kept in step by this log's commits.
   */
  heads(chat: string): Promise<Map<string, Head & { author: Uint8Array }>> {
    return this.#heads.all(chat);
  }

  /** An author's entries with seq > `after`, in seq order, at most `limit`. */
  async entriesAfter(
    chat: string,
    author: Uint8Array,
    after: number,
    limit = 1000,
  ): Promise<Entry[]> {
    return this.#tails.after(chat, author, after, limit) ??
      await reads.entriesAfter(this.#store, chat, author, after, limit);
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
    return this.#tails.after(chat, author, after, limit) ??
      await reads.rawEntriesAfter(this.#store, chat, author, after, limit);
  }

  /**
   * Entries in display order, (Lamport, author, seq). With `last`, only the
   * newest `last` of them. @see readChat
   */
  read(chat: string, options: { last?: number } = {}): Promise<Entry[]> {
    return reads.readChat(this.#store, chat, options);
  }

  /**
   * How many entries of `chat` have a Lamport clock above `lamport`, leaving
   * out `except`'s (one's own) and those of `skipTypes`; counting stops at `limit`.
   */
  countNewer(
    chat: string,
    lamport: number,
    options: {
      except?: Uint8Array | ((author: Uint8Array) => boolean);
      limit?: number;
      skipTypes?: ReadonlySet<string>;
    } = {},
  ): Promise<number> {
    return reads.countNewer(this.#store, chat, lamport, options);
  }

  /** The forks on record in `chat`: at most one per author (the first seen). */
  forks(chat: string): Promise<Fork[]> {
    return this.#forks.all(chat);
  }

  /**
   * Moves the entries of `author` in `chat` aside (set_aside.ts), for a
   * re-base: every one by default (the author then has no chain here), else
   * those from seq `from` on. Resolves with how many.
   */
  setAside(chat: string, author: Uint8Array, from = 1): Promise<number> {
    return this.#withLock(chat, async () => {
      try {
        return await moveAside(this.#store, chat, author, from);
      } finally {
        this.#forget(chat);
      }
    });
  }

  /** The fork on record for `author` in `chat`, if any. @see forks */
  forkOf(chat: string, author: Uint8Array): Promise<Fork | null> {
    return this.#forks.of(chat, author);
  }

  /** The entry `author` has at `seq` in `chat`, if held. */
  entryAt(chat: string, author: Uint8Array, seq: number): Promise<Entry | null> {
    return this.#entryAt(chat, author, seq);
  }

  /** Evidence of equivocation: the second entry of each fork on record. @see forks */
  async conflicts(chat: string): Promise<Entry[]> {
    return (await this.#forks.all(chat)).map((f) => f.twin);
  }
}
