/**
 * Mail between a person's own devices (issue 13 item 4, feature ownmail1):
 * when the laptop and the phone are never online together, what one wrote
 * in its direct chats reaches the other through an anchor of the person's,
 * in the same store, under the same quotas, expiry and deletion on ack as
 * 1:1 mail (direct_mail.ts, direct_ack.ts).
 *
 * Keys: per pair of device keys (the person key counts as the device that
 * holds it), from their X25519 secret, one tag per direction and week
 * (direct_keys.ts `ownMailKeys`, salt "roj-ownmail-v1"). Only the two
 * devices can compute it: no contact, and not the anchor. No secret is
 * shared beyond what linking already gave each device (the other's public
 * key), so devices linked before this existed take part too.
 *
 * Sending: on each session with an anchor that holds 1:1 mail (`dmail`),
 * once its first fetch is done, and whenever the contacts or a direct chat
 * change here while a sibling is not connected, one hand-over per anchor and
 * sibling puts, under the sibling's tag of the current week, what this
 * anchor was not handed for it yet: the person's records first (own_mail_records.ts:
 * contacts; chat settings, read marks and invites to a sibling that lists ownmail2),
 * then each direct chat's entries (sealBox: the entry's bytes and
 * signature), each author's in chain order: ours, and the contact's we hold
 * (the sibling may never meet the contact either). Not what the sibling
 * holds: its own, what it filed for us, and what it said on its session that
 * it holds (own_mail_siblings.ts). Nothing for a sibling whose hello, when we
 * last met it, did not list ownmail1 (an older device, which would never fetch it).
 *
 * Receiving: one `mbox.peek` over every sibling's tags of the weeks due,
 * then, for each sibling with any, its boxes after the anchor's number we
 * last read: records applied as its session's would be; entries
 * checked to be of one of our direct chats, by the contact (or a device of
 * theirs) or by us (or a device of ours), each speaking for its person at
 * the entry's time, grouped by chat and merged through the log
 * (own_mail_merge.ts). Entries held already (from the sibling directly, or
 * from the contact) are duplicates; display order is the log's; an entry
 * whose predecessor is missing waits for it (seq_gap). Once every box of a
 * week is merged, the token of dmail-ack lets the anchor delete them.
 *
 * What the anchor learns: tags, sizes, times, and that the uploader and the
 * fetcher of a tag are sessions of one member. It already takes a device's
 * session as its person's (by its certificate, contacts/member_ids.ts), so it
 * learns no new link between members; a person with one device files none.
 */
import { type Clock, systemClock } from "../clock/mod.ts";
import { decodeEntry, directChatId, type Entry, type RawEntry, toHex } from "../log/mod.ts";
import type { ChatLog } from "../log/mod.ts";
import { type KeyPair, sharedSecretOf } from "../identity/mod.ts";
import { decodeB64, encodeB64, type Hello } from "../protocol/mod.ts";
import type { RpcSession } from "../protocol/mod.ts";
import { keys } from "../store/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { directWindow, ownMailKeys, windowsDue } from "./direct_keys.ts";
import { boxId, type MailboxKeys, openBox, sealBox } from "./mailbox_crypto.ts";
import { putAck, sendAck } from "./direct_ack.ts";
import { putSealed } from "./put_sealed.ts";
import type { OwnRecords } from "./own_mail_records.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { SiblingNotes } from "./own_mail_siblings.ts";
import { mergeChats } from "./own_mail_merge.ts";

/** Entries read from the log per put. */
const PUT_ENTRIES = 200;
/** Boxes read from one anchor for one sibling in one visit, at most (the rest next visit). */
const MAX_VISIT_BOXES = 20_000;
/** What "out" jobs due for the records alone are marked with (never a chat id). */
const RECORDS = "records";
/** Jobs at once per anchor session (each has one request in flight). */
const JOBS_PER_ANCHOR = 2;

/** What a visit did, beside its log lines (api NodeEvent "own-mail"). */
export type OwnMailNote =
  | {
    readonly op: "deposited";
    readonly anchor: string;
    readonly device: Uint8Array;
    readonly contact: Uint8Array;
    readonly entries: number;
    readonly seq: number;
  }
  | {
    readonly op: "taken";
    readonly anchor: string;
    readonly device: Uint8Array;
    readonly fetched: number;
    readonly stored: number;
  }
  | {
    readonly op: "filed";
    readonly anchor: string;
    readonly device: Uint8Array;
    readonly kind: OwnRecords["kind"];
    readonly records: number;
  }
  | {
    readonly op: "refused";
    readonly anchor: string;
    readonly device: Uint8Array;
    readonly reason: string;
  };

/** The node, as own mail sees it. */
export interface OwnMailHost {
  readonly log: ChatLog;
  readonly kv: Deno.Kv;
  /** This device's key (the person key on the node that holds it). */
  readonly keyPair: KeyPair;
  /** The person's key: direct chat ids are its with each contact's. */
  readonly person: Uint8Array;
  /** Dates the boxes' weeks. @default systemClock */
  readonly clock?: Clock;
  /** The person's other devices that speak for it now (the person key's node too, on a device). */
  siblings(): Uint8Array[];
  /** Whether a session with that sibling is up (then device sync carries everything). */
  online(sibling: Uint8Array): boolean;
  /** The contacts whose direct chats we keep (not anchors, not blocked). */
  contacts(): Uint8Array[];
  /**
   * Of entries of the direct chat with `contact`, those whose author counts:
   * the contact or one of its devices, the person or one of our devices, each
   * speaking for its person at the entry's time (certificates they carry learnt first).
   */
  admit(contact: Uint8Array, raws: RawEntry[]): Promise<RawEntry[]>;
  /** The person's records filed before the entries, in this order (contacts first). @default none */
  readonly records?: readonly OwnRecords[];
  /** A sibling's entries of the direct chat with `contact` were stored here: show and pass on. */
  stored(chat: string, contact: Uint8Array, entries: Entry[]): Promise<void> | void;
  say(line: string): void;
  note?(n: OwnMailNote): void;
}

interface Anchor {
  readonly peer: Uint8Array;
  readonly rpc: RpcSession;
  readonly name: string;
  /** Tags fetched in this session, to the sibling they are from. */
  readonly tags: Map<string, Uint8Array>;
  busy: number;
  readonly queue: Array<() => void>;
  /** The fetches the first look found due (the first hand-over waits for them). */
  fetched?: Promise<void>;
}

/** Where we are in what one sibling filed for us at one anchor (as 1:1 mail's). */
interface Cursor {
  readonly v: 1;
  gen: string;
  last?: number;
  after: Record<string, number>;
}

function isCursor(v: unknown): v is Cursor {
  const c = v as Cursor;
  return typeof v === "object" && v !== null && c.v === 1 && typeof c.gen === "string" &&
    typeof c.after === "object" && c.after !== null;
}

type Job = "in" | "out" | "peek";

/** What an "out" job hands over: the contact records, and every direct chat or those named. */
type Due = "all" | Set<string>;

export class OwnMail {
  readonly #host: OwnMailHost;
  readonly #clock: Clock;
  readonly #me: Uint8Array;
  readonly #anchors = new Map<string, Anchor>();
  readonly #secrets = new Map<string, Uint8Array>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  readonly #notes: SiblingNotes;
  /** Per anchor and sibling, the chats an "out" job has yet to look at. */
  readonly #due = new Map<string, Due>();
  #closed = false;

  constructor(host: OwnMailHost) {
    this.#host = host;
    this.#clock = host.clock ?? systemClock;
    this.#me = host.keyPair.publicKey;
    this.#notes = new SiblingNotes(host.kv);
  }

  /** A session with an anchor of ours that holds 1:1 mail is up: fetch, then hand over. */
  attach(peer: Uint8Array, rpc: RpcSession, name: string): void {
    const k = toHex(peer);
    const a: Anchor = { peer, rpc, name, tags: new Map(), busy: 0, queue: [] };
    this.#anchors.set(k, a);
    rpc.onClose(() => {
      if (this.#anchors.get(k) === a) this.#anchors.delete(k);
    });
    // What the siblings filed here first: what they hold is then not filed back for them.
    const first = this.#run(a, peer, "peek").then(() => a.fetched).finally(() => {
      for (const s of this.#host.siblings()) this.#out(a, s, "all");
    });
    // Counted as under way until the hand-over started (idle()).
    const fk = `${k}/first`;
    this.#running.set(fk, first);
    first.finally(() => {
      if (this.#running.get(fk) === first) this.#running.delete(fk);
    }).catch(() => {});
  }

  /** Direct chat `chat` changed here: siblings not connected find it at the anchors connected now. */
  written(chat: string): void {
    for (const s of this.#host.siblings()) {
      if (this.#host.online(s)) continue;
      for (const a of this.#anchors.values()) this.#out(a, s, chat);
    }
  }

  /** A contact, chat setting, read mark or invite was kept here (device_sync/): likewise. */
  recordsChanged(): void {
    for (const s of this.#host.siblings()) {
      if (this.#host.online(s)) continue;
      for (const a of this.#anchors.values()) this.#out(a, s, RECORDS);
    }
  }

  /** Marks `what` due for `sibling` at `a`, and runs the one "out" job of the two. */
  #out(a: Anchor, sibling: Uint8Array, what: "all" | string): void {
    const k = `${toHex(a.peer)}/${toHex(sibling)}`;
    const due = this.#due.get(k);
    if (what === "all") this.#due.set(k, "all");
    else if (due === undefined) this.#due.set(k, new Set([what]));
    else if (due !== "all") due.add(what);
    this.#run(a, sibling, "out");
  }

  /** Boxes arrived under `tag` at `anchor` (mbox.notify): fetched if it is ours. True when it was. */
  notified(anchor: Uint8Array, tag: string): boolean {
    const a = this.#anchors.get(toHex(anchor));
    const s = a?.tags.get(tag);
    if (!a || !s) return false;
    this.#run(a, s, "in");
    return true;
  }

  /**
   * A sibling's session checked out: remember whether it reads own mail, and
   * the X25519 key it publishes (its key is in ssh-agent), to agree with.
   */
  met(sibling: Uint8Array, hello: Hello): void {
    this.#secrets.delete(toHex(sibling));
    this.#notes.met(sibling, hello).catch(() => {});
  }

  /** A sibling said on its session it holds these heads of `chat`: none of that is filed for it. */
  held(
    sibling: Uint8Array,
    chat: string,
    heads: Map<string, { author: Uint8Array; seq: number }>,
  ): void {
    this.#notes.held(sibling, chat, heads);
  }

  /** Resolves when no visit is under way (tests). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()]);
  }

  close(): void {
    this.#closed = true;
  }

  /** Runs a job (again after the one under way, if any); resolves when it ended, never rejects. */
  #run(a: Anchor, sibling: Uint8Array, job: Job): Promise<void> {
    if (this.#closed || a.rpc.closed) return Promise.resolve();
    const k = `${toHex(a.peer)}/${toHex(sibling)}/${job}`;
    const under = this.#running.get(k);
    if (under) {
      this.#again.add(k);
      return under;
    }
    const run = (async () => {
      do {
        this.#again.delete(k);
        await this.#slot(a);
        try {
          if (a.rpc.closed) break;
          if (job === "in") await this.#fetch(a, sibling);
          else if (job === "out") await this.#pushDue(a, sibling);
          else await this.#peek(a);
        } finally {
          this.#release(a);
        }
      } while (this.#again.has(k) && !this.#closed);
    })().catch((err) => {
      if (!a.rpc.closed) this.#host.say(`own mail at ${a.name}: ${(err as Error).message}`);
    }).finally(() => this.#running.delete(k));
    this.#running.set(k, run);
    return run;
  }

  #slot(a: Anchor): Promise<void> {
    if (a.busy < JOBS_PER_ANCHOR) {
      a.busy++;
      return Promise.resolve();
    }
    return new Promise((resolve) => a.queue.push(resolve));
  }

  #release(a: Anchor): void {
    const next = a.queue.shift();
    if (next) next();
    else a.busy--;
  }

  /** The keys of mail between us and `sibling`, to `recipient` (one of the two), in `window`. */
  async #keys(sibling: Uint8Array, recipient: Uint8Array, window: number): Promise<MailboxKeys> {
    const k = toHex(sibling);
    let s = this.#secrets.get(k);
    if (!s) {
      const agree = (await this.#notes.seen(sibling))?.agree;
      s = sharedSecretOf(this.#host.keyPair, sibling, agree ? decodeB64(agree) : undefined);
      this.#secrets.set(k, s);
    }
    return ownMailKeys(s, recipient, window);
  }

  /** Our direct chats, by id, to their contact. */
  #chats(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const c of this.#host.contacts()) out.set(directChatId(this.#host.person, c), c);
    return out;
  }

  /**
   * Hands anchor `a`, for `sibling`, what it was not handed yet of what is
   * due: the contact records, then the entries of the direct chats due (ours,
   * and the contact's we hold: the sibling may never meet the contact
   * either), each author's in chain order.
   */
  async #pushDue(a: Anchor, sibling: Uint8Array): Promise<void> {
    const k = `${toHex(a.peer)}/${toHex(sibling)}`;
    const due = this.#due.get(k);
    this.#due.delete(k);
    if (due === undefined || this.#host.online(sibling)) return;
    const { kv, log } = this.#host;
    // A sibling that, when last met, did not read own mail: nothing for it (it would never fetch).
    const seen = await this.#notes.seen(sibling);
    if (seen?.reads === false) return;
    const me = toHex(this.#me);
    const mk = await this.#keys(sibling, sibling, directWindow(this.#clock.now()));
    // Records first: an entry of a chat with a contact new there needs the contact.
    for (const r of this.#host.records ?? []) {
      if (!r.old && seen && !seen.records) continue; // it would not open them
      const put = await r.push(a.peer, sibling, (body) => this.#putBody(a, mk, body));
      if (put.filed > 0) {
        const at = { anchor: a.name, device: sibling, kind: r.kind };
        this.#host.note?.({ op: "filed", ...at, records: put.filed });
      }
      if (put.reason !== undefined) return this.#refused(a, sibling, put.reason);
    }
    for (const [chat, contact] of this.#chats()) {
      if (due !== "all" && !due.has(chat)) continue;
      const key = keys.ownMailPushed(a.peer, sibling, chat);
      const pushed = (await kv.get<Record<string, number>>(key)).value ?? {};
      const held = await this.#notes.holds(sibling, chat);
      let handed = 0;
      for (const [author, head] of await log.heads(chat)) {
        // What the sibling wrote, it holds; and what it said on its session that it holds.
        if (bytesEqual(head.author, sibling)) continue;
        const from = Math.max(pushed[author] ?? 0, held[author] ?? 0);
        const put = await this.#pushChain(a, mk, chat, head.author, from, head.seq);
        if (put.upTo > (pushed[author] ?? 0)) {
          pushed[author] = put.upTo;
          await kv.set(key, pushed);
        }
        handed += put.handed;
        if (put.reason !== undefined) return this.#refused(a, sibling, put.reason);
      }
      if (handed > 0) {
        this.#host.note?.({
          op: "deposited",
          anchor: a.name,
          device: sibling,
          contact,
          entries: handed,
          seq: pushed[me] ?? 0,
        });
      }
    }
  }

  #refused(a: Anchor, sibling: Uint8Array, reason: string): void {
    this.#host.say(`${a.name} holds no more mail for your other devices: ${reason}`);
    this.#host.note?.({ op: "refused", anchor: a.name, device: sibling, reason });
  }

  /** Puts one box of records (`body`, unsigned) under `mk` at `a`; why not, if refused. */
  async #putBody(a: Anchor, mk: MailboxKeys, body: Uint8Array): Promise<string | undefined> {
    const res = await a.rpc.request("mbox.put", {
      tag: mk.tag,
      items: [{ i: boxId(mk, sha256(body)), b: encodeB64(sealBox(mk, body, new Uint8Array())) }],
      ...putAck(a.rpc, mk),
    }, 30_000);
    return res.taken < 1 ? res.reason ?? "refused" : undefined;
  }

  /** Puts `author`'s entries of `chat` after seq `from` up to `head` under `mk`, in order. */
  async #pushChain(
    a: Anchor,
    mk: MailboxKeys,
    chat: string,
    author: Uint8Array,
    from: number,
    head: number,
  ): Promise<{ upTo: number; handed: number; reason?: string }> {
    let handed = 0;
    while (from < head && !a.rpc.closed) {
      const entries = await this.#host.log.entriesAfter(chat, author, from, PUT_ENTRIES);
      if (entries.length === 0) break;
      const res = await putSealed(a.rpc, mk, entries);
      const taken = res.taken;
      if (taken > 0) {
        from = entries[taken - 1]!.seq;
        handed += taken;
      }
      if (res.reason || taken < res.offered) {
        return { upTo: from, handed, reason: res.reason ?? "refused" };
      }
    }
    return { upTo: from, handed };
  }

  async #cursor(a: Anchor, sibling: Uint8Array): Promise<{ ck: Deno.KvKey; cursor: Cursor }> {
    const ck = keys.mboxCursor(a.peer, `own:${toHex(sibling)}`);
    const saved = (await this.#host.kv.get<unknown>(ck)).value;
    return { ck, cursor: isCursor(saved) ? saved : { v: 1, gen: "", after: {} } };
  }

  /** Asks `a` which siblings left something for us since we last looked, and fetches from those. */
  async #peek(a: Anchor): Promise<void> {
    const now = this.#clock.now();
    const items: Array<{ t: string; a: number; sibling: Uint8Array; gen: string }> = [];
    for (const s of this.#host.siblings()) {
      const { cursor } = await this.#cursor(a, s);
      for (const w of windowsDue(cursor.last, now)) {
        const mk = await this.#keys(s, this.#me, w);
        a.tags.set(mk.tag, s);
        items.push({ t: mk.tag, a: cursor.after[w] ?? 0, sibling: s, gen: cursor.gen });
      }
    }
    if (items.length === 0 || a.rpc.closed) return;
    const res = await a.rpc.request("mbox.peek", {
      tags: items.map(({ t, a }) => ({ t, a })),
    }, 30_000);
    const hits = new Set(res.tags);
    const due = new Map<string, Uint8Array>();
    for (const it of items) {
      // A cursor of another generation counts from numbers the anchor no longer has.
      if (hits.has(it.t) || (it.gen !== "" && it.gen !== res.gen)) {
        due.set(toHex(it.sibling), it.sibling);
      }
    }
    a.fetched = Promise.all([...due.values()].map((s) => this.#run(a, s, "in"))).then(() => {});
  }

  /** Fetches and merges what `sibling` filed for us at `a` since the last visit. */
  async #fetch(a: Anchor, sibling: Uint8Array): Promise<void> {
    const { ck, cursor } = await this.#cursor(a, sibling);
    const now = this.#clock.now();
    const windows = windowsDue(cursor.last, now);
    let chats = this.#chats();
    const tally = { fetched: 0, stored: 0, bad: 0 };
    let waiting = new Map<string, RawEntry[]>();
    const held = new Map<string, Map<string, { author: Uint8Array; seq: number }>>();
    for (const w of windows) {
      const mk = await this.#keys(sibling, this.#me, w);
      a.tags.set(mk.tag, sibling);
      const before = cursor.after[w] ?? 0;
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
        for (const item of res.items) {
          after = Math.max(after, item.n);
          const raw = openBox(mk, item.b);
          if (raw && raw.sig.length === 0 && await this.#takeRecords(a, raw.signed, sibling)) {
            // Contacts it added: their chats' entries, in the boxes after this one, are ours now.
            chats = this.#chats();
            tally.fetched++;
            continue;
          }
          const got = raw ? this.#entryOf(raw, chats) : null;
          if (!got) {
            tally.bad++;
            continue;
          }
          tally.fetched++;
          // What it filed, it holds: nothing of that is filed back for it.
          const gave = held.get(got.chat) ?? new Map<string, { author: Uint8Array; seq: number }>();
          const ak = toHex(got.author);
          if ((gave.get(ak)?.seq ?? 0) < got.seq) {
            gave.set(ak, { author: got.author, seq: got.seq });
          }
          held.set(got.chat, gave);
          const list = waiting.get(got.chat) ?? [];
          list.push(got.raw);
          waiting.set(got.chat, list);
        }
        // Before the merge, whose stored entries start a hand-over: that one must know.
        for (const [chat, heads] of held) this.#notes.held(sibling, chat, heads);
        held.clear();
        waiting = await mergeChats(this.#host, waiting, chats, tally);
        cursor.after[w] = after;
        more = res.more && res.items.length > 0;
      }
      // Everything up to `after` is in our log now (none waits): the anchor may drop it.
      if (waiting.size === 0 && after > before) await sendAck(a.rpc, mk, after);
    }
    cursor.last = directWindow(now);
    const keep = new Set(windows.map(String));
    cursor.after = Object.fromEntries(Object.entries(cursor.after).filter(([w]) => keep.has(w)));
    await this.#host.kv.set(ck, cursor);
    if (tally.bad > 0) this.#host.say(`own mail at ${a.name}: ${tally.bad} boxes did not open`);
    if (tally.fetched > 0) {
      this.#host.note?.({
        op: "taken",
        anchor: a.name,
        device: sibling,
        fetched: tally.fetched,
        stored: tally.stored,
      });
    }
  }

  /** Takes in a box's records; false when it holds none (or they were refused). */
  async #takeRecords(a: Anchor, plain: Uint8Array, sibling: Uint8Array): Promise<boolean> {
    for (const r of this.#host.records ?? []) if (await r.take(a.peer, sibling, plain)) return true;
    return false;
  }

  /** An opened box as an entry of one of our direct chats; else null. Its author is checked at merge. */
  #entryOf(
    raw: RawEntry,
    chats: Map<string, Uint8Array>,
  ): { chat: string; raw: RawEntry; author: Uint8Array; seq: number } | null {
    if (raw.sig.length === 0) return null;
    try {
      const e = decodeEntry(raw.signed);
      return chats.has(e.chat) ? { chat: e.chat, raw, author: e.author, seq: e.seq } : null;
    } catch {
      return null;
    }
  }
}
