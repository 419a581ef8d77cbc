/**
 * A group someone is pushing to us that we do not know yet.
 *
 * A newly added member learns of the group when a member syncs it to them.
 * Its entries go into a scratch log in memory (never the store), bounded in
 * size; after every push the scratch log's membership is folded, and only
 * when it names this node as a current member is the group adopted: its
 * entries merged into the real log and the group registered. Otherwise the
 * scratch log is dropped with the session. So a contact cannot fill the store
 * with chats of their choosing: at most a few scratch logs per session, each
 * of at most MAX_CANDIDATE_ENTRIES and MAX_CANDIDATE_BYTES, and at most
 * MAX_GROUPS adopted groups.
 */
import {
  ChatLog,
  compareEntries,
  type Ed25519Verifier,
  type Entry,
  type RawEntry,
} from "../log/mod.ts";
import type { Store } from "../store/mod.ts";
import { isGroupOp, members, type Membership } from "./membership.ts";

/** Most entries a scratch log takes before it is dropped. */
export const MAX_CANDIDATE_ENTRIES = 50_000;
/** Most bytes of entries a scratch log takes before it is dropped (it lives in memory). */
export const MAX_CANDIDATE_BYTES = 32 * 1024 * 1024;
/** Most scratch logs at once on one session. */
export const MAX_CANDIDATES_PER_SESSION = 4;
/**
 * Most bytes of entries all scratch logs of one session hold together: one
 * contact cannot make us keep more than this of groups that do not name us.
 */
export const MAX_SESSION_CANDIDATE_BYTES = 32 * 1024 * 1024;

/** What the scratch logs of one session hold between them (see MAX_SESSION_CANDIDATE_BYTES). */
export class CandidateBudget {
  bytes = 0;
}

export class JoinCandidate {
  readonly chat: string;
  readonly log: ChatLog;
  readonly #kv: Deno.Kv;
  #closed = false;

  private constructor(chat: string, kv: Deno.Kv, verifier?: Ed25519Verifier) {
    this.chat = chat;
    this.#kv = kv;
    const store: Store = { kv, path: ":memory:", close: () => kv.close() };
    this.log = new ChatLog(store, verifier ? { verifier } : {});
  }

  /**
   * A scratch log for `chat`, holding `seed` to begin with: for a group we
   * were in before (someone re-adding us), the history we already hold, so
   * that a peer who knows what we hold pushes only the rest.
   */
  static async open(
    chat: string,
    verifier?: Ed25519Verifier,
    seed: readonly RawEntry[] = [],
    budget: CandidateBudget = new CandidateBudget(),
  ): Promise<JoinCandidate> {
    const c = new JoinCandidate(chat, await Deno.openKv(":memory:"), verifier);
    c.#budget = budget;
    if (seed.length > 0) {
      await c.log.merge(chat, seed);
      c.#seeded = await c.#count();
      c.#ops.push(...(await c.log.read(chat)).filter((e) => isGroupOp(e.type)));
    }
    return c;
  }

  #seeded = 0;
  #bytes = 0;
  #budget = new CandidateBudget();
  /**
   * The membership entries held, kept as they come: folding membership after
   * every push must not read and parse the whole scratch log each time (that
   * made its memory a multiple of the bytes it holds).
   */
  readonly #ops: Entry[] = [];

  /** Merges entries that came another way (an anchor's mailbox), counted like a push. */
  async merge(raws: readonly RawEntry[]): Promise<void> {
    const res = await this.log.merge(this.chat, raws);
    this.took(res.stored);
  }

  /** Counts entries the peer pushed that were stored (call from the sync's onStored). */
  took(entries: readonly Entry[]): void {
    for (const e of entries) {
      const n = e.signed.length + e.sig.length;
      this.#bytes += n;
      this.#budget.bytes += n;
      if (isGroupOp(e.type)) this.#ops.push(e);
    }
  }

  /** Whether the peer pushed more than a scratch log, or all of its session's, may hold. */
  async overflowing(): Promise<boolean> {
    return this.#bytes > MAX_CANDIDATE_BYTES ||
      this.#budget.bytes > MAX_SESSION_CANDIDATE_BYTES ||
      await this.size() > MAX_CANDIDATE_ENTRIES;
  }

  async #count(): Promise<number> {
    let n = 0;
    for (const h of (await this.log.heads(this.chat)).values()) n += h.seq;
    return n;
  }

  /** Entries taken from the peer so far (the seed not counted). */
  async size(): Promise<number> {
    return await this.#count() - this.#seeded;
  }

  /** The membership the entries held so far fold into. */
  membership(): Promise<Membership> {
    return Promise.resolve(members([...this.#ops].sort(compareEntries), this.chat));
  }

  /** Every entry by the given authors (hex), as raw entries to merge elsewhere. */
  async raws(authors: ReadonlySet<string>): Promise<RawEntry[]> {
    const out: RawEntry[] = [];
    for (const [k, h] of await this.log.heads(this.chat)) {
      if (!authors.has(k)) continue;
      const entries = await this.log.entriesAfter(this.chat, h.author, 0, h.seq);
      for (const e of entries) out.push({ signed: e.signed, sig: e.sig });
    }
    return out;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#budget.bytes -= this.#bytes;
    try {
      this.#kv.close();
    } catch { /* already closed */ }
  }
}
