/**
 * Keeping one chat in step with one peer over one session.
 *
 * Both sides run this symmetrically. On start each asks the other for its
 * heads (author → last seq), then pushes, per author, what the other lacks, in
 * batches that fit a frame, a few batches in flight (what it lacks and the
 * batches are planned by reconcile.ts). Every push is answered
 * with the receiver's heads after its commit, so the sender knows exactly what
 * the peer holds (that is the "delivered" state). New local entries trigger
 * the same flush, so live delivery and catch-up are one mechanism.
 */
import { RojError } from "../errors.ts";
import type { ChatLog, Entry, Head, Rejection, SeqEntry } from "../log/mod.ts";
import { toHex, verifyEntry } from "../log/mod.ts";
import {
  BULK_FEATURE,
  decodeB64,
  encodeB64,
  type HeadItem,
  MAX_FRAME,
  MAX_PUSH_ENTRIES,
  OWN_CHAIN_FEATURE,
  type ParamsOf,
  peerHas,
  type PushPage,
  type ResultOf,
  type RpcSession,
} from "../protocol/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { cutBatches, lacking } from "./reconcile.ts";

/**
 * A push's entries stay under this many bytes, leaving room in a frame for
 * base64 (4/3) and the JSON around it.
 */
const BATCH_BUDGET = Math.floor(MAX_FRAME * 0.6) * 0.75;
/** The same in binary (bulk1): the entries' bytes, 8 bytes of lengths each and the page's head. */
const BULK_BUDGET = MAX_FRAME - 8 * MAX_PUSH_ENTRIES - 1024;
/** Push requests in flight per chat and peer. */
const WINDOW = 3;
const PUSH_TIMEOUT_MS = 30_000;

export function headsToWire(heads: Iterable<{ author: Uint8Array; seq: number }>): HeadItem[] {
  return [...heads].map((h) => ({ a: encodeB64(h.author), s: h.seq }));
}

function wireToHeads(items: HeadItem[]): Map<string, { author: Uint8Array; seq: number }> {
  const out = new Map<string, { author: Uint8Array; seq: number }>();
  for (const h of items) {
    const author = decodeB64(h.a);
    if (author.length !== 32) throw new RojError("bad_input", "head author is not a key");
    out.set(toHex(author), { author, seq: h.s });
  }
  return out;
}

/**
 * What a peer holds of our own chain in a chat (feature `own-chain`): the
 * entry heading it and a fork of it on record there, each beside the entry
 * we hold at that seq (null: none). See node/identity_guard.
 */
export interface OwnChainReport {
  readonly chat: string;
  /** The peer's head of our chain: seq 0 and hash null when it holds none of ours. */
  readonly seq: number;
  readonly theirs: Uint8Array | null;
  readonly mine: Uint8Array | null;
  readonly twin?: {
    readonly seq: number;
    readonly hash: Uint8Array;
    readonly mine: Uint8Array | null;
  };
  /** A peer without `own-chain`: only the seq is known (`theirs` and `mine` are null). */
  readonly hashless?: true;
  /**
   * Where the peer's chain of ours leaves ours (the first seq that differs),
   * when `theirs` is not ours: found by walking its entries back (`sync.own`),
   * at most MAX_FORK_WALK of them; 1 when the walk went that far without
   * meeting ours. A group re-base keeps what is below it.
   */
  readonly fork?: number;
}

/** Entries of the peer's copy of our chain asked for, walking back to the fork point. */
export const MAX_FORK_WALK = 64;

/** Whose chain the peer reports on, and who hears it. */
export interface OwnChainWatch {
  readonly me: Uint8Array;
  /** The session's peer: its own chain gets `h` and `t` in our answers. */
  readonly peer: Uint8Array;
  seen(report: OwnChainReport): void;
  /**
   * The peer pushed entries of ours that do not fit our chain; `seq`: the
   * first such; `fork`: where its chain of ours leaves ours, when the pushed
   * entries show it (one of them follows an entry we hold).
   */
  diverged(seq: number, fork?: number): void;
}

export interface ChatSyncOptions {
  /** Compare what the peer holds of our chain with ours, and tell it of its own. */
  readonly own?: OwnChainWatch;
  /**
   * Authors whose entries belong in this chat; others are refused. Asked again
   * for every push, so it may grow (a group adding someone). Without it, any
   * author is accepted (a scratch log whose use is decided afterwards).
   */
  readonly members?: () => Uint8Array[];
  /**
   * A further check of each pushed entry by a member, before it is merged
   * (whether a person's device spoke for them at the entry's time,
   * node/linking): asked once per push, undefined when nothing needs it.
   * @default every member's entry
   */
  readonly admits?: () => ((signed: Uint8Array) => boolean) | undefined;
  /**
   * Runs on each push's entries before `members` and `admits` are asked: a
   * person's device certificate an entry's SSHSIG carries is learnt there
   * (node/device_sync). @default nothing
   */
  readonly prepare?: (raws: readonly { signed: Uint8Array; sig: Uint8Array }[]) => Promise<void>;
  /** The peer now holds these heads (after a push or a heads answer). */
  readonly onPeerHeads?: (heads: Map<string, { author: Uint8Array; seq: number }>) => void;
  /**
   * Entries the peer pushed that were newly stored. When it returns a promise,
   * the push is answered once it settles: a group refolds its membership
   * there, so the peer's next push is judged by the membership its last one
   * made (see the retry in #flush).
   */
  readonly onStored?: (entries: Entry[]) => void | Promise<void>;
  /**
   * Push only a prefix of each author's chain: entries up to the first for
   * which this is false (e.g. a group's history up to someone's removal, for
   * them). @default every entry
   */
  readonly until?: (e: Entry) => boolean;
  readonly log?: (line: string) => void;
}

export class ChatSync {
  readonly chat: string;
  readonly #log: ChatLog;
  readonly #rpc: RpcSession;
  readonly #options: ChatSyncOptions;
  /** What the peer is known to hold, per author (hex). */
  readonly #peer = new Map<string, number>();
  #started = false;
  #running: Promise<void> | null = null;
  #dirty = false;
  /** Entries the peer stored and refused during the current pass of #flush. */
  #passStored = 0;
  #passRefused = 0;
  /** The kinds of refusal of the peer's pushes logged so far (each once per session). */
  readonly #refusals = new Set<string>();
  /** An early push (see early()) whose answer is not in yet: the next flush waits for it. */
  #early: Promise<void> | null = null;
  /** Early pushes unanswered; pushes unanswered, and per author (hex) the last seq they hold. */
  #earlies = 0;
  #unanswered = 0;
  readonly #ahead = new Map<string, number>();

  constructor(log: ChatLog, rpc: RpcSession, chat: string, options: ChatSyncOptions) {
    this.#log = log;
    this.#rpc = rpc;
    this.chat = chat;
    this.#options = options;
  }

  /** Whether start() has succeeded on this session. */
  get started(): boolean {
    return this.#started;
  }

  /** Learns the peer's heads and pushes what it lacks. May be called again after a failure. */
  async start(): Promise<void> {
    const res = await this.#rpc.request("sync.heads", { chat: this.chat });
    const heads = wireToHeads(res.heads);
    await this.#ownChain(res.heads, heads, true);
    for (const [k, h] of heads) this.#peer.set(k, Math.max(this.#peer.get(k) ?? 0, h.seq));
    this.#options.onPeerHeads?.(heads);
    this.#started = true;
    await this.notify();
  }

  /** Something changed locally: push what the peer lacks. Resolves when the peer has it (or the session failed). */
  notify(): Promise<void> {
    this.#dirty = true;
    if (!this.#started) return Promise.resolve();
    if (!this.#running) {
      this.#running = this.#flush().finally(() => {
        this.#running = null;
        // A notify() that came after the loop's last check but before this
        // callback joined a run that had already ended: flush again for it,
        // and resolve its callers only when that is done.
        if (this.#dirty && !this.#rpc.closed) return this.notify();
      });
    }
    return this.#running;
  }

  /**
   * Pushes our entries `batch` (one run of `author`'s chain) just signed,
   * while their commit runs (chats/commit_overlap.ts), when the peer is known
   * to hold all before them; their answer is taken once `committed` settles,
   * and the next flush waits for it. Whether they went.
   */
  early(author: Uint8Array, batch: SeqEntry[], committed: Promise<unknown>): boolean {
    // Behind unanswered pushes (a message written before the last one's answer came) it follows
    // them: the peer merges pushes in order; one finding a gap is refused, and the flush pushes it.
    const k = toHex(author);
    const held = Math.max(this.#peer.get(k) ?? 0, this.#ahead.get(k) ?? 0);
    const ready = this.#started && !this.#rpc.closed && batch.length > 0 &&
      this.#earlies < WINDOW && held === batch[0]!.seq - 1;
    if (!ready) return false;
    const prior = this.#early;
    this.#earlies++;
    const pushed = this.#push(batch, committed, k).catch(() => {}).finally(() => this.#earlies--);
    const done: Promise<void> = (prior ? Promise.all([prior, pushed]) : pushed).then(() => {
      if (this.#early === done) this.#early = null;
    });
    this.#early = done;
    return true;
  }

  async #flush(): Promise<void> {
    if (this.#early) await this.#early;
    while (this.#dirty && !this.#rpc.closed) {
      this.#dirty = false;
      this.#passStored = 0;
      this.#passRefused = 0;
      const mine = await this.#log.heads(this.chat);
      for (const lack of lacking(mine, (k) => this.#peer.get(k) ?? 0)) {
        await this.#pushAuthor(lack.author, mine.get(lack.author)!);
      }
      // Refused entries may be accepted once others are in: in a group, an
      // author's entries count only after the entry adding them arrived, which
      // may sit in a chain pushed later. Go again while a pass makes progress.
      if (this.#passRefused > 0 && this.#passStored > 0) this.#dirty = true;
    }
  }

  async #pushAuthor(k: string, head: Head & { author: Uint8Array }): Promise<void> {
    // Read now, not when the pass began: the peer may have pushed us some of
    // these meanwhile (it holds what it sent).
    let sent = this.#peer.get(k) ?? 0;
    const inflight: Promise<void>[] = [];
    const until = this.#options.until;
    while (sent < head.seq && !this.#rpc.closed) {
      let entries: SeqEntry[];
      let stop = false;
      let final: boolean;
      if (until) {
        const full = await this.#log.entriesAfter(this.chat, head.author, sent, MAX_PUSH_ENTRIES);
        const cut = full.findIndex((e) => !until(e));
        [entries, stop] = cut >= 0 ? [full.slice(0, cut), true] : [full, false];
        final = stop || full.length < MAX_PUSH_ENTRIES;
      } else {
        // Only the bytes are sent on: no need to decode what the store holds.
        entries = await this.#log.rawEntriesAfter(this.chat, head.author, sent, MAX_PUSH_ENTRIES);
        final = entries.length < MAX_PUSH_ENTRIES;
      }
      if (entries.length === 0) break;
      const sizes = entries.map((e) => e.signed.length + e.sig.length);
      let at = 0;
      for (
        const n of cutBatches(sizes, {
          budgetBytes: peerHas(this.#rpc.peerHello, BULK_FEATURE) ? BULK_BUDGET : BATCH_BUDGET,
          maxEntries: MAX_PUSH_ENTRIES,
          final,
        })
      ) {
        if (sent >= head.seq || this.#rpc.closed) break;
        const batch = entries.slice(at, at + n);
        at += n;
        sent = batch[batch.length - 1]!.seq;
        const pushed = this.#push(batch, undefined, k);
        // Awaited in turn below; when an earlier one fails and ends the pass, the
        // failures of those still in flight (a closed session fails them all) must
        // not escape as unhandled rejections, which would stop the process.
        pushed.catch(() => {});
        inflight.push(pushed);
        if (inflight.length >= WINDOW) await inflight.shift();
      }
      if (stop && at === entries.length) break;
    }
    await Promise.all(inflight);
  }

  /**
   * Pushes these entries whatever the peer is known to hold: our twin of an
   * entry of ours the peer holds another of, as evidence for it to keep (the
   * other node with our key learns of it from the peer's fork record).
   */
  offer(batch: SeqEntry[]): Promise<void> {
    return this.#push(batch);
  }

  async #push(batch: SeqEntry[], committed?: Promise<unknown>, author?: string): Promise<void> {
    if (author) this.#ahead.set(author, Math.max(this.#ahead.get(author) ?? 0, batch.at(-1)!.seq));
    this.#unanswered++;
    try {
      await this.#pushed(batch, committed);
    } finally {
      // What the peer holds is known again from its answers once none is awaited.
      if (--this.#unanswered === 0) this.#ahead.clear();
    }
  }

  async #pushed(batch: SeqEntry[], committed?: Promise<unknown>): Promise<void> {
    // In binary to a peer that lists bulk1: the entries go as the bytes the store holds.
    const res = await this.#rpc.requestBulk(
      "sync.push",
      { chat: this.chat, entries: batch },
      PUSH_TIMEOUT_MS,
    );
    // Sent before our commit was in: what the peer holds counts once that is in (it failed: see
    // chats/commit_overlap.ts, the chat waits for the peer's copy of ours).
    if (committed && !await committed.then(() => true, () => false)) return;
    const heads = wireToHeads(res.heads);
    await this.#ownChain(res.heads, heads, false);
    for (const [k, h] of heads) this.#peer.set(k, Math.max(this.#peer.get(k) ?? 0, h.seq));
    this.#options.onPeerHeads?.(heads);
    this.#passStored += res.stored;
    this.#passRefused += res.rejected;
    if (res.rejected > 0) {
      // Without the count, so that the caller's log can tell a repeat (see RepeatThrottle).
      this.#options.log?.(
        `peer refused entries of ${this.chat}: ${res.reason ?? "no reason given"}`,
      );
    }
  }

  /**
   * Compares the peer's head of our chain (and a fork of it on record there)
   * with the entries we hold, and tells the watcher. A head that is not ours
   * at that seq is left out of `heads`: the peer holds another node's entry
   * there, not ours, so ours is not delivered. `all`: a full heads answer
   * (one without our chain means the peer holds none of it).
   */
  async #ownChain(
    items: readonly HeadItem[],
    heads: Map<string, { author: Uint8Array; seq: number }>,
    all: boolean,
  ): Promise<void> {
    const own = this.#options.own;
    if (!own) return;
    const me = encodeB64(own.me);
    const item = items.find((h) => h.a === me);
    if (!peerHas(this.#rpc.peerHello, OWN_CHAIN_FEATURE)) {
      // An older peer: how far it holds our chain is all it tells (a re-base waits for that much).
      if (item || all) {
        own.seen({ chat: this.chat, seq: item?.s ?? 0, theirs: null, mine: null, hashless: true });
      }
      return;
    }
    if (!item) {
      if (all) own.seen({ chat: this.chat, seq: 0, theirs: null, mine: null });
      return;
    }
    if (item.h === undefined) return;
    const at = async (seq: number) =>
      seq === 0 ? null : (await this.#log.entryAt(this.chat, own.me, seq))?.hash ?? null;
    let theirs = decodeB64(item.h);
    let mine = await at(item.s);
    let seq = item.s;
    let twin = item.t
      ? { seq: item.t.s, hash: decodeB64(item.t.h), mine: await at(item.t.s) }
      : undefined;
    if (mine === null && !twin && await this.#behind(item.s, heads)) return;
    let suspect = mine !== null && !bytesEqual(mine, theirs);
    if (twin?.mine && bytesEqual(twin.mine, twin.hash)) {
      // They hold ours as the twin, so they keep another entry at that place: that one proves it.
      if (!suspect) [seq, mine, suspect] = [twin.seq, twin.mine, true];
      twin = undefined;
    }
    if (suspect) {
      // Not ours at that place: not delivered, whatever comes of the proof.
      heads.delete(toHex(own.me));
      // A hash proves nothing (a hostile contact could name any): ask for the entry, signed by our key.
      const proof = await this.#ownProof(seq);
      if (!proof || bytesEqual(proof.hash, mine!)) return;
      theirs = proof.hash;
      const fork = await this.#forkPoint(proof);
      own.seen({ chat: this.chat, seq, theirs, mine, fork, ...(twin ? { twin } : {}) });
      return;
    }
    own.seen({ chat: this.chat, seq, theirs, mine, ...(twin ? { twin } : {}) });
  }

  /**
   * The peer holds more of our chain (to `seq`) than we do: whether its entry
   * at our head is another than ours (then reported, and true). Without this,
   * a fork where the other node wrote more than this one shows only when the
   * peer pushes the rest, and then without its fork point.
   */
  async #behind(
    seq: number,
    heads: Map<string, { author: Uint8Array; seq: number }>,
  ): Promise<boolean> {
    const own = this.#options.own!;
    const head = (await this.#log.heads(this.chat)).get(toHex(own.me));
    if (!head || head.seq >= seq) return false;
    const proof = await this.#ownProof(head.seq);
    if (!proof || bytesEqual(proof.hash, head.hash)) return false;
    heads.delete(toHex(own.me));
    const fork = await this.#forkPoint(proof);
    own.seen({ chat: this.chat, seq: head.seq, theirs: proof.hash, mine: head.hash, fork });
    return true;
  }

  /**
   * The hash of the peer's entry of our chain at `seq`, when it sends one
   * signed by our key for this chat and seq (`sync.own`); else null.
   */
  async #ownProof(seq: number): Promise<Entry | null> {
    const own = this.#options.own!;
    try {
      const res = await this.#rpc.request("sync.own", { chat: this.chat, seq });
      if (!res.e) return null;
      const e = await verifyEntry(decodeB64(res.e.s), decodeB64(res.e.g));
      const fits = e.chat === this.chat && e.seq === seq && bytesEqual(e.author, own.me);
      return fits ? e : null;
    } catch {
      return null; // no proof: a bad signature, an older peer, a closed session
    }
  }

  /**
   * The first seq where the peer's chain of ours (`theirs`, an entry of it)
   * leaves ours: where its entry follows one we hold. Walks back at most
   * MAX_FORK_WALK entries; 1 when it does not meet ours by then.
   */
  async #forkPoint(theirs: Entry): Promise<number> {
    const me = this.#options.own!.me;
    let e: Entry | null = theirs;
    for (let i = 0; e && e.seq > 1 && i < MAX_FORK_WALK; i++) {
      const below = await this.#log.entryAt(this.chat, me, e.seq - 1);
      if (below && e.prev && bytesEqual(below.hash, e.prev)) return e.seq;
      const next: Entry | null = await this.#ownProof(e.seq - 1);
      // Only the chain behind their entry counts (a hostile peer could send any of ours).
      if (!next || !e.prev || !bytesEqual(next.hash, e.prev)) return 1;
      e = next;
    }
    return 1;
  }

  /**
   * Where a pushed run of our entries (the peer's copy of our chain) leaves
   * ours: the lowest pushed entry that is not ours at its seq but follows the
   * entry we hold below it. Null when the run does not show it (then a group
   * re-base sets aside our whole chain there).
   */
  async #pushedFork(raws: ReadonlyArray<{ signed: Uint8Array; sig: Uint8Array }>) {
    const me = this.#options.own!.me;
    const pushed: Entry[] = [];
    for (const r of raws.slice(0, MAX_FORK_CHECK)) {
      try {
        const e = await verifyEntry(r.signed, r.sig);
        if (e.chat === this.chat && bytesEqual(e.author, me)) pushed.push(e);
      } catch { /* refused by the merge already */ }
    }
    for (const e of pushed.sort((a, b) => a.seq - b.seq)) {
      const ours = await this.#log.entryAt(this.chat, me, e.seq);
      if (ours && bytesEqual(ours.hash, e.hash)) continue;
      if (e.seq === 1) return 1;
      const below = await this.#log.entryAt(this.chat, me, e.seq - 1);
      if (below && e.prev && bytesEqual(below.hash, e.prev)) return e.seq;
    }
    return null;
  }

  /** Serves the peer's sync.own: its own entry at that seq, if held here. */
  async answerOwn(p: ParamsOf<"sync.own">): Promise<ResultOf<"sync.own">> {
    const own = this.#options.own;
    const e = own ? await this.#log.entryAt(this.chat, own.peer, p.seq) : null;
    return e ? { e: { s: encodeB64(e.signed), g: encodeB64(e.sig) } } : {};
  }

  /** Heads for the peer: its own chain's with the head's hash and a fork on record (`own-chain`). */
  async #headsFor(
    heads: Iterable<Head & { author: Uint8Array }>,
  ): Promise<HeadItem[]> {
    const own = this.#options.own;
    const items = headsToWire(heads);
    if (!own || !peerHas(this.#rpc.peerHello, OWN_CHAIN_FEATURE)) return items;
    const peer = encodeB64(own.peer);
    const i = items.findIndex((h) => h.a === peer);
    if (i < 0) return items;
    const head = (await this.#log.heads(this.chat)).get(toHex(own.peer));
    const fork = await this.#log.forkOf(this.chat, own.peer);
    items[i] = {
      ...items[i]!,
      ...(head ? { h: encodeB64(head.hash) } : {}),
      ...(fork ? { t: { s: fork.seq, h: encodeB64(fork.twin.hash) } } : {}),
    };
    return items;
  }

  /**
   * Logs why the peer's entries were refused here: the first refusal of each
   * kind per session only, since a peer pushing the same refused entries on
   * every pass would otherwise fill the log. Gaps are left out: they are the
   * ordinary echo of an earlier refusal, or of entries still on their way.
   */
  #noteRefusals(rejected: readonly Rejection[]): void {
    for (const r of rejected) {
      if (r.code === "seq_gap" || this.#refusals.has(r.code)) continue;
      this.#refusals.add(r.code);
      this.#options.log?.(`refused an entry of ${this.chat} (${r.code}): ${r.reason}`);
    }
  }

  /** Serves the peer's sync.heads. */
  async answerHeads(): Promise<{ heads: HeadItem[] }> {
    return { heads: await this.#headsFor((await this.#log.heads(this.chat)).values()) };
  }

  /**
   * Serves the peer's sync.push (a page the session decoded and checked,
   * from binary or JSON; rpc.handleBulk): verify, check membership, store,
   * answer with our heads.
   */
  async answerPush(p: PushPage): Promise<ResultOf<"sync.push">> {
    const members = this.#options.members?.();
    const admits = this.#options.admits?.();
    const raws = p.entries;
    await this.#options.prepare?.(raws);
    let refused = 0;
    let reason: string | undefined;
    const result = await this.#log.merge(
      this.chat,
      raws.filter((r) => {
        // The author key sits at a fixed place in the canonical bytes; the merge verifies it all again.
        const ok = (!members || members.some((m) => containsAuthor(r.signed, m))) &&
          (admits?.(r.signed) ?? true);
        if (!ok) {
          refused++;
          reason ??= "entry by someone who is not a member of this chat";
        }
        return ok;
      }),
    );
    const touched = new Map<string, Uint8Array>();
    for (const e of result.stored) {
      const k = toHex(e.author); // once an entry: a catch-up stores 1,000 a push
      touched.set(k, e.author);
      this.#peer.set(k, Math.max(this.#peer.get(k) ?? 0, e.seq)); // the peer holds what it sent
    }
    if (result.stored.length > 0) {
      try {
        await this.#options.onStored?.(result.stored);
      } catch { /* the owner reports its own failures */ }
    }
    const mine = await this.#log.heads(this.chat);
    for (const r of result.rejected) if (r.author) touched.set(toHex(r.author), r.author);
    // The pusher's own chain too: it learns at once whether we hold its entries or another node's.
    if (this.#options.own) touched.set(toHex(this.#options.own.peer), this.#options.own.peer);
    const heads = [...touched.keys()].map((k) => mine.get(k)).filter((h) => h !== undefined);
    const rejected = refused + result.rejected.length;
    reason ??= result.rejected[0]?.reason;
    this.#noteRefusals(result.rejected);
    const own = this.#options.own;
    const misfit = own &&
      result.rejected.find((r) =>
        r.author && bytesEqual(r.author, own.me) &&
        (r.code === "equivocation" || r.code === "prev_mismatch")
      );
    if (own && misfit) {
      const fork = await this.#pushedFork(raws.filter((r) => containsAuthor(r.signed, own.me)));
      own.diverged(misfit.seq ?? 0, ...(fork !== null ? [fork] : []));
    }
    return {
      heads: await this.#headsFor(heads),
      stored: result.stored.length,
      rejected,
      ...(rejected > 0 && reason ? { reason: reason.slice(0, 300) } : {}),
    };
  }
}

/** Entries of ours pushed to us, checked for a fork point (see #pushedFork). */
const MAX_FORK_CHECK = 64;

/** Whether the canonical entry bytes name `author` (checked again, fully, by the merge). */
function containsAuthor(signed: Uint8Array, author: Uint8Array): boolean {
  // "roj-entry-v1" string (4+12), chat string (4+n), key blob string (4 + 4+11 + 4+32).
  // Read in place: this runs for every pushed entry and member, and allocated two views each time.
  if (signed.length < 16 + 4 || author.length !== 32) return false;
  const chatLen = (signed[16]! << 24 | signed[17]! << 16 | signed[18]! << 8 | signed[19]!) >>> 0;
  const keyAt = 16 + 4 + chatLen + 4 + 4 + 11 + 4;
  if (keyAt + 32 > signed.length) return false;
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= signed[keyAt + i]! ^ author[i]!;
  return diff === 0;
}
