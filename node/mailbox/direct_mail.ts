/**
 * 1:1 mail: a contact's side of the anchor mailbox for direct chats, so two
 * contacts who are never online together still talk through an anchor both
 * use. The anchor holds the boxes in the same store, under the same quotas
 * and expiry, as group mail (mailbox_store.ts); only the tags differ.
 *
 * Sending: our entries of the direct chat with contact C that C does not
 * hold yet (above the delivered mark) and that this anchor was not handed
 * before are sealed under C's tag of the current week (direct_keys.ts) and
 * put, in chain order, when a session with an anchor comes up and whenever
 * we write to C while C is not connected. Only at an anchor C uses: one that
 * serves us the address record C sealed for us (addr.get under the pair's
 * tag), which C hands to every anchor it reaches (discovery/). What the
 * anchor took raises the "at-anchor" mark (the host's `anchored`), a
 * different state from "delivered", which only C's own heads move.
 *
 * Receiving: on each session with an anchor, one `mbox.peek` asks which of
 * the tags due (every contact's, for the weeks due) hold boxes after the
 * ones we read; then, for each contact with any, the boxes filed for us
 * under the weeks due (from the week before our last visit to
 * the one after now) after the anchor's number we last read, opened, checked
 * to be C's entries of our direct chat, and merged through the log like a
 * push: entries held already (they came directly, or from another anchor)
 * are duplicates, display order is the log's (Lamport, author, seq), and an
 * entry whose predecessor is missing waits for it (seq_gap, merged again).
 * The anchor tells us (mbox.notify) when boxes arrive under a tag we fetched.
 *
 * Receipts: a visit that fetched some of C's entries leaves C, under C's tag
 * of the week, a receipt saying how far we hold C's chain (direct_keys.ts),
 * once per new height. C's visit reads it with its mail and raises the
 * "delivered" mark (the host's `receipt`), as our heads would in a session:
 * so the two learn that their mail arrived without ever being online together.
 *
 * Carrying: a contact's node that lists `carry` (not `--no-carry`) holds
 * such boxes too, in a small mailbox of its own (CARRY_LIMITS), and is used
 * like an anchor, on the same evidence: it serves us the record the
 * recipient sealed for us, which the recipient hands to every contact it
 * reaches. So a mutual friend online when each of the two is carries the
 * mail between them.
 *
 * On a device of a person: the chat is the person's with C, our chain the
 * device key's, and the pair secrets and receipts' keys those of the
 * person's agreement key (direct_pairs.ts, direct_receipts.ts).
 *
 * What the holder learns: tags, box sizes, when boxes come, who uploads and
 * who fetches under a tag (it authenticates both: a friend who carries
 * knows both, so learns that one writes to the other); not the chat, not a
 * word of the text, and an anchor not the recipient's key or name.
 */
import { type Clock, systemClock } from "../clock/mod.ts";
import { decodeEntry, directChatId, type Entry, type RawEntry, toHex } from "../log/mod.ts";
import type { ChatLog } from "../log/mod.ts";
import type { KeyPair } from "../identity/mod.ts";
import type { RpcSession } from "../protocol/mod.ts";
import { keys } from "../store/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { directWindow, parseReceipt, windowsDue } from "./direct_keys.ts";
import { type MailboxKeys, openBox } from "./mailbox_crypto.ts";
import { DirectPairs } from "./direct_pairs.ts";
import { leaveReceipts, type ReceiptMarks } from "./direct_receipts.ts";
import { sendAck } from "./direct_ack.ts";
import { putSealed } from "./put_sealed.ts";
import type { MailboxLimits } from "./mailbox_store.ts";

/** What a person's node carries for its contacts at most (anchors: DEFAULT_MAILBOX_LIMITS). */
export const CARRY_LIMITS: MailboxLimits = {
  perUploaderBoxes: 2_000,
  perUploaderBytes: 16 * 1024 * 1024,
  totalBoxes: 20_000,
  totalBytes: 256 * 1024 * 1024,
  ttlMs: 14 * 86_400_000,
};

/** Own entries read from the log per put. */
const PUT_ENTRIES = 200;
/** Boxes read from one anchor for one contact in one visit, at most (the rest next visit). */
const MAX_VISIT_BOXES = 20_000;
/** Bytes of entries waiting for a missing predecessor in one visit, at most (the lowest seqs). */
const MAX_WAITING_BYTES = 8 * 1024 * 1024;
/**
 * Jobs (one contact's fetch or hand-over) at once per session with a holder:
 * each has one request in flight, and a peer answers `busy` past 64.
 */
const JOBS_PER_ANCHOR = 4;
/** Tags asked about per mbox.peek (its schema's bound). */
const PEEK_TAGS = 512;

/** Who holds mail: an anchor, or a contact carrying it. */
export type Holder = "anchor" | "friend";

/** What a visit did, beside its log lines (api NodeEvent "direct-mail"); `anchor` names the holder. */
export type DirectMailNote =
  | {
    readonly op: "deposited";
    readonly by: Holder;
    readonly anchor: string;
    readonly peer: Uint8Array;
    readonly entries: number;
    readonly seq: number;
  }
  | {
    readonly op: "taken";
    readonly by: Holder;
    readonly anchor: string;
    readonly peer: Uint8Array;
    readonly fetched: number;
    readonly stored: number;
  }
  | {
    readonly op: "refused";
    readonly by: Holder;
    readonly anchor: string;
    readonly peer: Uint8Array;
    readonly reason: string;
  };

/** The node, as 1:1 mail sees it. */
export interface DirectMailHost {
  readonly log: ChatLog;
  readonly kv: Deno.Kv;
  readonly keyPair: KeyPair;
  /**
   * The X25519 key a contact published (its key is in ssh-agent;
   * contacts/agreeKeys), to agree with instead of its ed25519 key's.
   * @default none published
   */
  readonly agreeKeyOf?: (peer: Uint8Array) => Uint8Array | undefined;
  /** Our person, whose key is in the chat ids (on a device, not ours). @default keyPair's */
  readonly person?: Uint8Array;
  /**
   * Of `peer`'s entries, those it or a device speaking for it at their time
   * wrote (their certificates learnt first). @default those `peer` wrote
   */
  admit?(peer: Uint8Array, raws: RawEntry[]): Promise<RawEntry[]>;
  /** Dates the boxes' weeks. @default systemClock */
  readonly clock?: Clock;
  /** Contacts we write to and read from (not anchors, not blocked). */
  contacts(): Uint8Array[];
  /** Whether a session with this contact is up (then the direct sync carries our entries). */
  online(peer: Uint8Array): boolean;
  /** The highest own seq in the direct chat that the contact holds. */
  delivered(chat: string, peer: Uint8Array): Promise<number>;
  /** An anchor holds our entries of the direct chat with `peer` up to `seq`. */
  anchored(chat: string, peer: Uint8Array, seq: number): Promise<void>;
  /** The base64 tag under which `peer`'s address record sealed for us is filed (discovery/). */
  recordTag(peer: Uint8Array): string;
  /** A receipt: `peer` holds our entries of the direct chat up to `seq` (at most our head). */
  receipt(chat: string, peer: Uint8Array, seq: number): Promise<void>;
  /** Entries of `peer` were stored from an anchor: show them. */
  stored(chat: string, peer: Uint8Array, entries: Entry[]): Promise<void>;
  say(line: string): void;
  note?(n: DirectMailNote): void;
}

/** A live session with an anchor, or a contact carrying, that holds 1:1 mail. */
interface Anchor {
  readonly peer: Uint8Array;
  readonly rpc: RpcSession;
  readonly name: string;
  readonly by: Holder;
  /** Tags fetched in this session, to the contact (hex) they are for. */
  readonly tags: Map<string, Uint8Array>;
  /** Contacts (hex) this anchor served a record of: they use it. */
  readonly uses: Set<string>;
  /** Jobs running on this session, and those waiting for a slot. */
  busy: number;
  readonly queue: Array<() => void>;
}

/** Where we are in the boxes filed for us by one contact at one anchor. */
interface Cursor extends ReceiptMarks {
  readonly v: 1;
  gen: string;
  /** The window of the last visit. */
  last?: number;
  /** Per window, the anchor's number of the last box read. */
  after: Record<string, number>;
}

function isCursor(v: unknown): v is Cursor {
  const c = v as Cursor;
  return typeof v === "object" && v !== null && c.v === 1 && typeof c.gen === "string" &&
    typeof c.after === "object" && c.after !== null;
}

const freshCursor = (): Cursor => ({ v: 1, gen: "", after: {} });
const cursorKey = (a: Anchor, peer: Uint8Array) => keys.mboxCursor(a.peer, `dm:${toHex(peer)}`);

export class DirectMail {
  readonly #host: DirectMailHost;
  readonly #clock: Clock;
  /** Whose chain we write: the device's key on a device. */
  readonly #me: Uint8Array;
  /** Who we are to contacts: the chat ids' key and the recipient in our mail's keys. */
  readonly #person: Uint8Array;
  /** The pair secrets (direct_pairs.ts); its `sides` are set once the agreement key is wired. */
  readonly pairs: DirectPairs;
  readonly #anchors = new Map<string, Anchor>();
  /** Per anchor, contact and job ("in"/"out"), the run under way. */
  readonly #running = new Map<string, Promise<void>>();
  /** Jobs due again after the one under way. */
  readonly #again = new Set<string>();
  #closed = false;

  constructor(host: DirectMailHost) {
    this.#host = host;
    this.#clock = host.clock ?? systemClock;
    this.#me = host.keyPair.publicKey;
    this.#person = host.person ?? this.#me;
    this.pairs = new DirectPairs(host.keyPair, host.agreeKeyOf);
  }

  /**
   * A session with an anchor that lists 1:1 mail (`by` "anchor"), or with a
   * contact that carries (`by` "friend"), is up: fetch ours, then hand over
   * what waits. On a friend's session this serves its notices too (on an
   * anchor's, the group mailbox does and passes them to `notified`).
   */
  attach(peer: Uint8Array, rpc: RpcSession, name: string, by: Holder): void {
    const k = toHex(peer);
    const a: Anchor = {
      peer,
      rpc,
      name,
      by,
      tags: new Map(),
      uses: new Set(),
      busy: 0,
      queue: [],
    };
    this.#anchors.set(k, a);
    rpc.onClose(() => {
      if (this.#anchors.get(k) === a) this.#anchors.delete(k);
    });
    if (by === "friend") {
      rpc.handle("mbox.notify", ({ tag }) => (this.notified(peer, tag), Promise.resolve({})));
    }
    this.#run(a, peer, "peek");
    for (const c of this.#host.contacts()) if (toHex(c) !== k) this.#run(a, c, "out");
  }

  /** We wrote to `peer`: when they are not connected, hand it to the anchors connected now. */
  written(peer: Uint8Array): void {
    if (this.#host.online(peer)) return;
    for (const a of this.#anchors.values()) this.#run(a, peer, "out");
  }

  /**
   * The anchor `anchor` said boxes arrived under `tag`: fetch them if the
   * tag is one of ours. True when it was.
   */
  notified(anchor: Uint8Array, tag: string): boolean {
    const a = this.#anchors.get(toHex(anchor));
    const c = a?.tags.get(tag);
    if (!a || !c) return false;
    this.#run(a, c, "in");
    return true;
  }

  /** Resolves when no visit is under way (tests, instead of a sleep). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()]);
  }

  /** Starts no more visits (the node is stopping). */
  close(): void {
    this.#closed = true;
  }

  #run(a: Anchor, peer: Uint8Array, job: "in" | "out" | "peek"): void {
    if (this.#closed || a.rpc.closed) return;
    const k = `${toHex(a.peer)}/${toHex(peer)}/${job}`;
    if (this.#running.has(k)) {
      this.#again.add(k);
      return;
    }
    const run = (async () => {
      do {
        this.#again.delete(k);
        await this.#slot(a);
        try {
          if (a.rpc.closed) break;
          if (job === "in") await this.#fetch(a, peer);
          else if (job === "out") await this.#push(a, peer);
          else await this.#peek(a);
        } finally {
          this.#release(a);
        }
      } while (this.#again.has(k) && !this.#closed);
    })().catch((err) => {
      if (!a.rpc.closed) this.#host.say(`1:1 mail at ${a.name}: ${(err as Error).message}`);
    }).finally(() => this.#running.delete(k));
    this.#running.set(k, run);
  }

  /** Waits for one of the anchor's JOBS_PER_ANCHOR slots. */
  #slot(a: Anchor): Promise<void> {
    if (a.busy < JOBS_PER_ANCHOR) {
      a.busy++;
      return Promise.resolve();
    }
    return new Promise((resolve) => a.queue.push(resolve));
  }

  /** Gives a slot to the next job waiting, else back. */
  #release(a: Anchor): void {
    const next = a.queue.shift();
    if (next) next();
    else a.busy--;
  }

  /** Whether `peer` uses anchor `a`: it serves us the record `peer` sealed for us. */
  async #uses(a: Anchor, peer: Uint8Array): Promise<boolean> {
    const k = toHex(peer);
    if (a.uses.has(k)) return true;
    const tag = this.#host.recordTag(peer);
    const res = await a.rpc.request("addr.get", { tags: [tag] }, 30_000);
    if (!res.items.some((i) => i.t === tag)) return false;
    a.uses.add(k);
    return true;
  }

  /** Hands anchor `a` our entries for `peer` that neither it nor `peer` holds, in chain order. */
  async #push(a: Anchor, peer: Uint8Array): Promise<void> {
    const { kv, log } = this.#host;
    const chat = directChatId(this.#person, peer);
    const me = toHex(this.#me);
    const head = (await log.heads(chat)).get(me)?.seq ?? 0;
    // Nothing of ours yet, or the peer is here to take it: no need to read what went where.
    if (head === 0 || a.rpc.closed || this.#host.online(peer)) return;
    const key = keys.mboxPushed(a.peer, chat);
    const pushed = (await kv.get<Record<string, number>>(key)).value ?? {};
    let from = Math.max(Number(pushed[me] ?? 0), await this.#host.delivered(chat, peer));
    if (from >= head || a.rpc.closed || this.#host.online(peer)) return;
    const ps = this.pairs.sealing(peer);
    if (!ps || !await this.#uses(a, peer)) return;
    const mk = this.pairs.keys(ps, peer, directWindow(this.#clock.now()));
    let handed = 0;
    while (from < head && !a.rpc.closed) {
      const entries = await log.entriesAfter(chat, this.#me, from, PUT_ENTRIES);
      if (entries.length === 0) break;
      const res = await putSealed(a.rpc, mk, entries);
      const taken = res.taken;
      if (taken > 0) {
        from = entries[taken - 1]!.seq;
        handed += taken;
        pushed[me] = from;
        await kv.set(key, pushed);
        await this.#host.anchored(chat, peer, from);
      }
      if (res.reason || taken < res.offered) {
        const reason = res.reason ?? "refused";
        this.#host.say(`${a.name} holds no more 1:1 mail from us: ${reason}`);
        this.#host.note?.({ op: "refused", by: a.by, anchor: a.name, peer, reason });
        break;
      }
    }
    if (handed > 0) {
      this.#host.note?.({
        op: "deposited",
        by: a.by,
        anchor: a.name,
        peer,
        entries: handed,
        seq: from,
      });
    }
  }

  /** Where we are in what `peer` filed for us at `a`, and where that is stored. */
  async #cursor(a: Anchor, peer: Uint8Array): Promise<{ ck: Deno.KvKey; cursor: Cursor }> {
    const ck = cursorKey(a, peer);
    const saved = (await this.#host.kv.get<unknown>(ck)).value;
    return { ck, cursor: isCursor(saved) ? saved : freshCursor() };
  }

  /**
   * Asks `a` which contacts left something for us since we last looked
   * (one request per PEEK_TAGS tags), and fetches from those.
   */
  async #peek(a: Anchor): Promise<void> {
    const now = this.#clock.now();
    const items: Array<{ t: string; a: number; peer: Uint8Array; gen: string }> = [];
    const contacts = this.#host.contacts().filter((c) => !bytesEqual(c, a.peer));
    // Read 10 at a time (a KV read each would cost twice as much: a peek runs on every holder's session).
    const cursors: Cursor[] = [];
    for (let i = 0; i < contacts.length; i += 10) {
      const got = await this.#host.kv.getMany<unknown[]>(
        contacts.slice(i, i + 10).map((c) => cursorKey(a, c)),
      );
      for (const r of got) cursors.push(isCursor(r.value) ? r.value : freshCursor());
    }
    for (const [j, c] of contacts.entries()) {
      const cursor = cursors[j]!;
      for (
        const { mk, at } of this.pairs.inbox(
          c,
          this.#person,
          this.#me,
          windowsDue(cursor.last, now),
        )
      ) {
        a.tags.set(mk.tag, c);
        items.push({ t: mk.tag, a: cursor.after[at] ?? 0, peer: c, gen: cursor.gen });
      }
    }
    const due = new Map<string, Uint8Array>();
    for (let i = 0; i < items.length && !a.rpc.closed; i += PEEK_TAGS) {
      const chunk = items.slice(i, i + PEEK_TAGS);
      const res = await a.rpc.request("mbox.peek", {
        tags: chunk.map(({ t, a }) => ({ t, a })),
      }, 30_000);
      const hits = new Set(res.tags);
      // A cursor of another generation counts from numbers the holder no longer has.
      for (const it of chunk) {
        if (hits.has(it.t) || (it.gen !== "" && it.gen !== res.gen)) {
          due.set(toHex(it.peer), it.peer);
        }
      }
    }
    for (const c of due.values()) this.#run(a, c, "in");
  }

  /** Fetches and merges what `peer` filed for us at anchor `a` since the last visit. */
  async #fetch(a: Anchor, peer: Uint8Array): Promise<void> {
    const { kv } = this.#host;
    const chat = directChatId(this.#person, peer);
    const { ck, cursor } = await this.#cursor(a, peer);
    const now = this.#clock.now();
    const windows = windowsDue(cursor.last, now);
    const tally = { fetched: 0, stored: 0, bad: 0, receipt: 0 };
    let waiting: RawEntry[] = [];
    const authors = new Map<string, Uint8Array>();
    for (const t of this.pairs.inbox(peer, this.#person, this.#me, windows)) {
      const { mk, at } = t;
      a.tags.set(mk.tag, peer);
      const before = cursor.after[at] ?? 0;
      let after = before;
      for (let more = true; more && !a.rpc.closed && tally.fetched < MAX_VISIT_BOXES;) {
        const res = await a.rpc.requestBulk("mbox.get", { tag: mk.tag, after, limit: 500 }, 30_000);
        if (res.gen !== cursor.gen) {
          // A new mailbox (its data was lost): every window is read again from 0.
          const stale = cursor.gen !== "";
          cursor.gen = res.gen;
          cursor.after = {};
          if (stale && after > 0) {
            after = 0;
            continue;
          }
        }
        const opened: RawEntry[] = [];
        for (const item of res.items) {
          after = Math.max(after, item.n);
          const got = this.#open(mk, item.b, chat, peer);
          if (got === null) tally.bad++;
          else if (typeof got !== "number") {
            if (t.entries) opened.push(got);
          } else if (t.receipts) tally.receipt = Math.max(tally.receipt, got);
        }
        const raws = this.#host.admit ? await this.#host.admit(peer, opened) : opened;
        tally.bad += opened.length - raws.length;
        for (const r of raws) {
          const { author } = decodeEntry(r.signed);
          authors.set(toHex(author), author);
        }
        tally.fetched += raws.length;
        waiting = await this.#merge(chat, peer, [...waiting, ...raws], tally);
        cursor.after[at] = after;
        more = res.more && res.items.length > 0;
      }
      // Everything up to `after` is in our log now (none waits for a predecessor): the holder may drop it.
      if (waiting.length === 0 && after > before) await sendAck(a.rpc, mk, after);
    }
    // Read only under tags that name our own chain (on a device, its key's).
    if (tally.receipt > 0) {
      const head = (await this.#host.log.heads(chat)).get(toHex(this.#me))?.seq ?? 0;
      await this.#host.receipt(chat, peer, Math.min(tally.receipt, head));
    }
    if (tally.fetched > 0 && !a.rpc.closed) {
      await leaveReceipts(
        a.rpc,
        this.pairs,
        this.#host.log,
        chat,
        peer,
        authors.values(),
        cursor,
        now,
      );
    }
    cursor.last = directWindow(now);
    const keep = new Set(windows.map(String));
    cursor.after = Object.fromEntries(
      Object.entries(cursor.after).filter(([w]) => keep.has(w.split("/")[0]!)),
    );
    await kv.set(ck, cursor);
    if (tally.bad > 0) this.#host.say(`1:1 mail at ${a.name}: ${tally.bad} boxes did not open`);
    if (tally.fetched > 0) {
      this.#host.note?.({
        op: "taken",
        by: a.by,
        anchor: a.name,
        peer,
        fetched: tally.fetched,
        stored: tally.stored,
      });
    }
  }

  /** One box as `peer`'s entry of our direct chat, or the seq of its receipt; null when neither. */
  #open(
    mk: MailboxKeys,
    box: Uint8Array,
    chat: string,
    peer: Uint8Array,
  ): RawEntry | number | null {
    try {
      const raw = openBox(mk, box);
      if (!raw) return null;
      if (raw.sig.length === 0) return parseReceipt(raw.signed);
      const e = decodeEntry(raw.signed);
      // The contact's, or (admit checks) a device's of theirs: never one of ours.
      const theirs = this.#host.admit
        ? !bytesEqual(e.author, this.#me)
        : bytesEqual(e.author, peer);
      return e.chat === chat && theirs ? raw : null;
    } catch {
      return null;
    }
  }

  /** Merges entries; resolves with those still waiting for a predecessor (bounded). */
  async #merge(
    chat: string,
    peer: Uint8Array,
    raws: RawEntry[],
    tally: { stored: number },
  ): Promise<RawEntry[]> {
    if (raws.length === 0) return [];
    const res = await this.#host.log.merge(chat, raws);
    if (res.stored.length > 0) {
      tally.stored += res.stored.length;
      await this.#host.stored(chat, peer, res.stored);
    }
    const gaps = new Set(res.rejected.filter((r) => r.code === "seq_gap").map((r) => r.seq));
    if (gaps.size === 0) return [];
    const waiting = raws.map((r) => ({ r, seq: decodeEntry(r.signed).seq }))
      .filter((w) => gaps.has(w.seq)).sort((x, y) => x.seq - y.seq);
    const kept: RawEntry[] = [];
    let bytes = 0;
    for (const { r } of waiting) {
      bytes += r.signed.length + r.sig.length;
      if (bytes > MAX_WAITING_BYTES) break;
      kept.push(r);
    }
    return kept;
  }
}
