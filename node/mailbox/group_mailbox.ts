/**
 * A group member's side of the anchor mailbox. On each session with an
 * anchor, and for each group this node is a member of: fetch the boxes filed
 * since the last visit, open them, and merge the entries as if a member had
 * pushed them; then hand the anchor, sealed, every entry of the group it was
 * not handed before (anyone's, so a member forwards for others). New local
 * entries are handed to the anchors connected at the time; the anchor tells
 * us (mbox.notify) when someone else filed boxes under a tag we fetched.
 *
 * Tags rotate with the membership epochs (mailbox_crypto.ts): boxes are
 * filed under a secret derived from an epoch's group key, so a removed member
 * gets nothing filed under later epochs. Which epochs count here: those
 * sealed to this node and to nobody outside the epoch's members (a key a
 * concurrent change sealed to someone since removed is not used to file).
 * - Filing: an entry goes under the newest such epoch that starts at or
 *   before it in display order (the oldest we hold, for history from before
 *   we joined); an entry that starts an epoch also under the one before, so
 *   members who missed the change find it under the tag they know.
 * - Fetching: on the first visit in a session under the current epoch, the
 *   one before it, and any epoch fetched before until GRACE_MS after it
 *   stopped being current here (so entries filed by members who had not seen
 *   a change yet are not lost); later, under the current one and those the
 *   anchor says have new boxes. After each merge the epochs are looked at
 *   again: a member back from weeks away follows the chain of changes one
 *   tag at a time.
 *
 * Local state per anchor and group: per epoch, the anchor's number of the
 * last box fetched (with the mailbox's generation, so a reset anchor is read
 * again from the start) and when the epoch stopped being current; and, per
 * author, the last seq handed over.
 *
 * Pointers: someone added while offline does not know the group yet, so
 * cannot derive its tags. Each member therefore also leaves, once per anchor,
 * group, fellow member M and stretch of M's membership, a pointer box (the
 * group's id and the mailbox secrets of the epochs it holds, which M needs to
 * fetch the history its membership is proven by) under a tag only it and M
 * can compute from their pairwise X25519 secret (salt "roj-mbox-pointer-v1",
 * info M's key; see mailbox_crypto.ts). On each connect a node reads the
 * pointers its contacts left for it, fetches the groups it is not in, and
 * adopts those whose entries name it a member (through a scratch log, as a
 * group offered by a peer). The anchor learns that the two use one tag, as it
 * can already for sealed address records. Pointers are left only for current
 * members, so a removed member learns no secret of a later epoch that way.
 */
import { base64 } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import { z } from "zod";
import { RojError } from "../errors.ts";
import {
  type ChatLog,
  compareBytes,
  decodeEntry,
  type Entry,
  type RawEntry,
  toHex,
} from "../log/mod.ts";
import { type KeyPair, x25519SharedSecret } from "../identity/mod.ts";
import { check, decodeB64, encodeB64, type RpcSession } from "../protocol/mod.ts";
import { keys } from "../store/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { type GroupBook, isGroupChatId, type Membership } from "../groups/mod.ts";
import {
  boxId,
  epochMailboxSecret,
  MAILBOX_SECRET_BYTES,
  type MailboxKeys,
  mailboxKeys,
  openBox,
  pointerKeys,
  sealBox,
} from "./mailbox_crypto.ts";

/** Boxes fetched before they are merged (the next round is fetched while one merges). */
const ROUND_BOXES = 2_000;
/** Boxes asked for per mbox.get (the most it takes; the anchor also caps the bytes). */
const FETCH_PAGE = 1000;
/** How long entries received from another member wait before they are handed to anchors. */
const RECEIVED_DELAY_MS = 1500;
/** Boxes read from one anchor for one group in one visit, at most. */
const MAX_VISIT_BOXES = 200_000;
/** Entries merged at once. */
const MERGE_CHUNK = 1000;
/** Smaller catch-ups from an anchor are not reported as progress. */
const PROGRESS_MIN = 100;
/** Bytes of boxes per put, so the request fits a frame in base64. */
const PUT_BYTES = 560 * 1024;
/**
 * How long an epoch that is no longer current is still fetched: members who
 * have not seen the change yet keep filing under it (the anchor's default
 * expiry; its boxes are gone after that anyway).
 */
const GRACE_MS = 30 * 86_400_000;
/** Past epochs in their grace period fetched per visit, at most (the newest). */
const MAX_GRACE_EPOCHS = 8;
/** Rounds of following new epochs in one visit, at most. */
const MAX_CHAIN = 64;
/** Epoch secrets in one pointer, at most (the newest); a pointer must fit one box. */
const MAX_POINTER_EPOCHS = 400;

export interface MailboxProgress {
  readonly chat: string;
  /** The anchor's name. */
  readonly from: string;
  readonly done: number;
  /** Entries to merge in this round. */
  readonly total: number;
}

export interface GroupMailboxHost {
  readonly log: ChatLog;
  readonly kv: Deno.Kv;
  readonly groups: GroupBook;
  readonly keyPair: KeyPair;
  /** Entries from an anchor were stored: refold, show, pass on (as for a member's push). */
  stored(chat: string, entries: Entry[]): Promise<void>;
  /** A group pointed out to us: adopt it if `raws` name us a member. Resolves with whether we are in. */
  join(chat: string, raws: RawEntry[], anchor: string): Promise<boolean>;
  /** Contacts (not anchors) who may have left pointers for us. */
  contacts(): Uint8Array[];
  progress(p: MailboxProgress): void;
  say(line: string): void;
}

interface AnchorSession {
  readonly peer: Uint8Array;
  readonly rpc: RpcSession;
  readonly name: string;
  /** Tags the anchor said have new boxes, not fetched since. */
  readonly notified: Set<string>;
  /** Groups whose past epochs were fetched in this session (once is enough: then notices tell). */
  readonly looked: Set<string>;
}

interface Cursor {
  gen: string;
  after: number;
}

/** What is stored per anchor and group: a cursor per epoch fetched. */
interface EpochCursor extends Cursor {
  /** When the epoch was first seen not current here (ms); absent while it is. */
  ended?: number;
}
type Cursors = Record<string, EpochCursor>;

function isCursors(v: unknown): v is { v: 2; e: Cursors } {
  return typeof v === "object" && v !== null && (v as { v: unknown }).v === 2 &&
    typeof (v as { e: unknown }).e === "object";
}

/** An entry fetched from a box, with what merging it needs at hand. */
type FetchedEntry = RawEntry & { author: Uint8Array; hex: string; seq: number; lamport: number };

/** A visit's progress over its rounds: entries fetched, and merged (or given up). */
interface Tally {
  fetched: number;
  merged: number;
}

/** An epoch whose tag this node files under and fetches. */
interface MailEpoch {
  readonly id: string;
  /** Its starting entry's place in display order (Lamport, then author: unique per entry). */
  readonly lamport: number;
  readonly author: Uint8Array;
  readonly secret: Uint8Array;
  readonly keys: MailboxKeys;
}

/** Whether an entry sorts at or after an epoch's start. */
function startsBefore(ep: MailEpoch, e: Pick<Entry, "lamport" | "author">): boolean {
  return ep.lamport < e.lamport ||
    (ep.lamport === e.lamport && compareBytes(ep.author, e.author) <= 0);
}

/** What a pointer box holds: the group and the mailbox secrets of the epochs the writer holds. */
const PointerBody = z.object({
  c: z.string().max(64),
  e: z.array(z.tuple([z.string().regex(/^[0-9a-f]{32}$/), z.string().max(64)]))
    .min(1).max(MAX_POINTER_EPOCHS),
}).strict();

export class GroupMailbox {
  readonly #host: GroupMailboxHost;
  readonly #anchors = new Map<string, AnchorSession>();
  /** Per group, the epochs that count here, for the membership they were worked out from. */
  readonly #epochs = new Map<string, { of: Membership; epochs: MailEpoch[] }>();
  /** Mailbox epochs by group and epoch id (deriving them opens a sealed key). */
  readonly #derived = new Map<string, MailEpoch>();
  /** Tags of the pointers left for us: a notify under one means a new pointer. */
  readonly #pointerTags = new Set<string>();
  /** Per anchor and group, the visit under way, and whether another is due after it. */
  readonly #running = new Map<string, Promise<void>>();
  /** Visits due again after the current one; true when that one is to forward others' entries. */
  readonly #again = new Map<string, boolean>();
  /** Hand-overs of entries received from members, waiting (see received). */
  readonly #later = new Map<string, ReturnType<typeof setTimeout>>();
  #closed = false;

  readonly #me: Uint8Array;

  constructor(host: GroupMailboxHost) {
    this.#host = host;
    this.#me = host.keyPair.publicKey;
  }

  /** A session with an anchor is up: visit it for every group we are in. */
  attach(peer: Uint8Array, rpc: RpcSession, name: string): void {
    const k = toHex(peer);
    const s: AnchorSession = { peer, rpc, name, notified: new Set(), looked: new Set() };
    this.#anchors.set(k, s);
    rpc.onClose(() => {
      if (this.#anchors.get(k) === s) this.#anchors.delete(k);
    });
    rpc.handle("mbox.notify", async (p) => {
      const { tag } = check("mbox.notify", "params", p);
      for (const g of this.#host.groups.all()) {
        if ((await this.#epochsOf(g.id)).some((ep) => ep.keys.tag === tag)) {
          s.notified.add(tag);
          this.#visit(s, g.id, false);
        }
      }
      if (this.#pointerTags.has(tag)) this.#readPointers(s).catch(() => {});
      return {};
    });
    for (const g of this.#host.groups.all()) this.#visit(s, g.id, true);
    this.#readPointers(s).catch((err) => {
      if (!s.rpc.closed) this.#host.say(`pointers at ${s.name}: ${(err as Error).message}`);
    });
  }

  /** Group `chat` changed here: hand our new entries to every anchor we are connected to. */
  changed(chat: string): void {
    for (const s of this.#anchors.values()) this.#visit(s, chat, false);
  }

  /**
   * Entries of `chat` came from another member: hand them over a little
   * later. Their author, if connected to the anchor, has usually done so by
   * then, and the has-check in #push then finds nothing to upload.
   */
  received(chat: string): void {
    if (this.#later.has(chat) || this.#closed) return;
    this.#later.set(
      chat,
      setTimeout(() => {
        this.#later.delete(chat);
        for (const s of this.#anchors.values()) this.#visit(s, chat, true);
      }, RECEIVED_DELAY_MS),
    );
  }

  /** Resolves when no visit is under way or waiting (for tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.#running.size > 0 || this.#later.size > 0) {
      await Promise.all([...this.#running.values()]);
      if (this.#later.size > 0) await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Cancels waiting hand-overs (the node is stopping). */
  close(): void {
    this.#closed = true;
    for (const t of this.#later.values()) clearTimeout(t);
    this.#later.clear();
  }

  /**
   * Fetches from the anchor, then hands it our entries of `chat` and, with
   * `forward`, everyone else's it lacks: on connect, and a while after
   * entries arrived from a member (see received), not on every local change
   * or anchor notice, or members would race their authors to the anchor.
   */
  #visit(s: AnchorSession, chat: string, forward: boolean): void {
    const g = this.#host.groups.get(chat);
    if (!g?.membership.members.has(toHex(this.#me)) || s.rpc.closed) return;
    const k = `${toHex(s.peer)}/${chat}`;
    if (this.#running.has(k)) {
      this.#again.set(k, forward || (this.#again.get(k) ?? false));
      return;
    }
    const run = (async () => {
      for (let fwd: boolean | undefined = forward; fwd !== undefined; fwd = this.#again.get(k)) {
        this.#again.delete(k);
        if (s.rpc.closed) break;
        await this.#fetch(s, chat);
        if (!this.#host.groups.get(chat)?.membership.members.has(toHex(this.#me))) {
          // Removed while away: a pointer may be waiting for a later re-add.
          await this.#readPointers(s);
          break;
        }
        const epochs = await this.#epochsOf(chat);
        if (epochs.length === 0) break;
        await this.#push(s, chat, epochs, fwd);
        await this.#point(s, chat, epochs);
      }
    })().catch((err) => {
      if (!s.rpc.closed) {
        this.#host.say(`mailbox of ${s.name} for ${chat}: ${(err as Error).message}`);
      }
    }).finally(() => this.#running.delete(k));
    this.#running.set(k, run);
  }

  /**
   * The epochs of `chat` this node files under and fetches, oldest first:
   * sealed to us, to nobody outside the epoch's members, and opening.
   */
  async #epochsOf(chat: string): Promise<MailEpoch[]> {
    const m = this.#host.groups.get(chat)?.membership;
    if (!m) return [];
    const known = this.#epochs.get(chat);
    if (known?.of === m) return known.epochs;
    const me = toHex(this.#me);
    const out: MailEpoch[] = [];
    for (const ep of m.epochs) {
      if (!ep.keys.has(me) || [...ep.keys.keys()].some((k) => !ep.members.has(k))) continue;
      const author = m.ever.get(ep.author);
      if (!author) continue;
      let got = this.#derived.get(`${chat}/${ep.id}`);
      if (!got) {
        const key = await this.#host.groups.epochKey(chat, ep.id);
        if (!key) continue;
        const secret = epochMailboxSecret(chat, ep.id, key);
        got = { id: ep.id, lamport: ep.lamport, author, secret, keys: mailboxKeys(secret) };
        this.#derived.set(`${chat}/${ep.id}`, got);
      }
      out.push(got);
    }
    this.#epochs.set(chat, { of: m, epochs: out });
    return out;
  }

  /** The epochs an entry is filed under (see the module comment). */
  #fileUnder(epochs: MailEpoch[], e: Pick<Entry, "lamport" | "author">): MailEpoch[] {
    let i = epochs.length - 1;
    while (i > 0 && !startsBefore(epochs[i]!, e)) i--;
    if (i < 0) return [];
    const ep = epochs[i]!;
    const starts = i > 0 && ep.lamport === e.lamport && compareBytes(ep.author, e.author) === 0;
    return starts ? [ep, epochs[i - 1]!] : [ep];
  }

  /**
   * Fetches under every epoch due (the current one, the one before, and
   * those fetched before and still in their grace period), again as merged
   * changes bring new epochs, then retires epochs past their grace.
   */
  async #fetch(s: AnchorSession, chat: string): Promise<void> {
    const kv = this.#host.kv;
    const key = keys.mboxCursor(s.peer, chat);
    const saved = (await kv.get<unknown>(key)).value;
    const cursors: Cursors = isCursors(saved) ? saved.e : {};
    const done = new Set<string>();
    const now = Date.now();
    // The first visit in a session looks at the past epochs in their grace
    // period; later ones only at those the anchor says have new boxes (it
    // tells us of every tag we fetched in the session), the current one, and
    // any epoch that came in since the visit began.
    const first = !s.looked.has(chat);
    s.looked.add(chat);
    const startedAt = (await this.#epochsOf(chat)).at(-1)?.id;
    const due = (epochs: MailEpoch[]) => {
      const since = epochs.findIndex((ep) => ep.id === startedAt);
      const wanted = new Set<string>(epochs.slice(since < 0 ? -1 : since + 1).map((ep) => ep.id));
      if (startedAt !== undefined) wanted.add(startedAt);
      for (const ep of epochs) if (s.notified.has(ep.keys.tag)) wanted.add(ep.id);
      if (first) {
        if (epochs.length >= 2) wanted.add(epochs.at(-2)!.id);
        epochs.filter((ep) => {
          const c = cursors[ep.id];
          return c !== undefined && (c.ended === undefined || now - c.ended < GRACE_MS);
        }).slice(-MAX_GRACE_EPOCHS).forEach((ep) => wanted.add(ep.id));
      }
      return epochs.filter((ep) => wanted.has(ep.id) && !done.has(ep.id));
    };
    for (let round = 0; round < MAX_CHAIN && !s.rpc.closed; round++) {
      const todo = due(await this.#epochsOf(chat));
      if (todo.length === 0) break;
      for (const ep of todo) {
        if (s.rpc.closed) break;
        done.add(ep.id);
        s.notified.delete(ep.keys.tag);
        const before = cursors[ep.id];
        cursors[ep.id] = {
          ...before,
          ...await this.#fetchEpoch(s, chat, ep, before ?? { gen: "", after: 0 }),
        };
        await kv.set(key, { v: 2, e: cursors });
      }
    }
    const epochs = await this.#epochsOf(chat);
    const current = epochs.at(-1)?.id;
    const held = new Set(epochs.map((ep) => ep.id));
    for (const [id, c] of Object.entries(cursors)) {
      if (!held.has(id) || (c.ended !== undefined && now - c.ended >= GRACE_MS)) {
        delete cursors[id];
      } else if (id !== current && c.ended === undefined) c.ended = now;
      else if (id === current) delete c.ended;
    }
    await kv.set(key, { v: 2, e: cursors });
  }

  /** Fetches and merges the boxes filed under one epoch after `cursor`; resolves with the new cursor. */
  async #fetchEpoch(
    s: AnchorSession,
    chat: string,
    ep: MailEpoch,
    start: Cursor,
  ): Promise<Cursor> {
    const mk = ep.keys;
    // The cursor moves once a round is merged; the next round is fetched meanwhile.
    let cursor: Cursor = { gen: start.gen, after: start.after };
    let after = cursor.after;
    let gen = cursor.gen;
    const tally: Tally = { fetched: 0, merged: 0 };
    let merging: Promise<void> = Promise.resolve();
    // One hex string per run of boxes by one author, not one per box.
    let lastAuthor: Uint8Array = new Uint8Array(0);
    let lastHex = "";
    const hexOf = (author: Uint8Array) => {
      if (!bytesEqual(author, lastAuthor)) [lastAuthor, lastHex] = [author, toHex(author)];
      return lastHex;
    };
    const get = (from: number) => {
      const p = s.rpc.request("mbox.get", { tag: mk.tag, after: from, limit: FETCH_PAGE }, 30_000);
      p.catch(() => {}); // awaited in turn, unless the visit ends first
      return p;
    };
    /** The next page, asked for before the last one is opened: the anchor works on it meanwhile. */
    let next: Promise<unknown> | null = null;
    // Bounds against an anchor that never stops answering "more" (the rest waits for the next visit).
    let seen = 0;
    let restarted = false;
    for (let more = true; more && !s.rpc.closed && seen < MAX_VISIT_BOXES;) {
      const raws: FetchedEntry[] = [];
      let bad = 0;
      while (raws.length < ROUND_BOXES) {
        const res = check("mbox.get", "result", await (next ?? get(after)));
        next = null;
        if (res.gen !== gen) {
          // A new mailbox (its data was lost): read it from the start, once per visit.
          if (after !== 0 && !restarted) {
            restarted = true;
            after = 0;
            gen = res.gen;
            continue;
          }
          gen = res.gen;
        }
        const before = after;
        seen += res.items.length;
        const last = res.items.reduce((n, item) => Math.max(n, item.n), after);
        more = res.more && last > before && seen < MAX_VISIT_BOXES;
        if (more) next = get(last);
        for (const item of res.items) {
          after = Math.max(after, item.n);
          const raw = openBox(mk, decodeB64(item.b));
          if (!raw) {
            bad++;
            continue;
          }
          try {
            const f = decodeEntry(raw.signed);
            if (f.chat !== chat) throw new RojError("wrong_chat", "entry of another chat");
            raws.push({
              ...raw,
              author: f.author,
              hex: hexOf(f.author),
              seq: f.seq,
              lamport: f.lamport,
            });
          } catch {
            bad++;
          }
        }
        if (!more) break;
      }
      if (bad > 0) this.#host.say(`mailbox of ${s.name}: ${bad} boxes did not open; skipped`);
      tally.fetched += raws.length;
      // At most one round merging while the next is fetched.
      await merging;
      const upTo: Cursor = { gen, after };
      merging = (raws.length > 0 ? this.#merge(s, chat, raws, ep, tally) : Promise.resolve())
        .then(() => {
          cursor = upTo;
        });
      merging.catch(() => {}); // awaited below or before the next round
    }
    await merging;
    if (tally.fetched >= PROGRESS_MIN) {
      this.#host.progress({ chat, from: s.name, done: tally.fetched, total: tally.fetched });
    }
    return cursor;
  }

  /**
   * Merges one round of fetched entries, authors' chains in order, letting
   * membership grow as adds arrive; `tally` counts progress over the visit.
   */
  async #merge(
    s: AnchorSession,
    chat: string,
    raws: FetchedEntry[],
    from: MailEpoch,
    tally: Tally,
  ): Promise<void> {
    const { groups, log } = this.#host;
    raws.sort((a, b) => (a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : a.seq - b.seq));
    // The anchor holds these now: never hand them back. Unless they came under
    // a tag we would not file them under (an older epoch, for those who
    // missed a change): then they are handed over again, under the right one.
    const epochs = await this.#epochsOf(chat);
    const held = new Map<string, number>();
    const elsewhere = new Set<string>();
    for (const r of raws) {
      const under = this.#fileUnder(epochs, r);
      if (under.length !== 1 || under[0]!.id !== from.id) elsewhere.add(r.hex);
      held.set(r.hex, Math.max(held.get(r.hex) ?? 0, r.seq));
    }
    for (const k of elsewhere) held.delete(k);
    await this.#notePushed(s.peer, chat, held);
    // The visit's end reports done = total; until then a round never looks finished.
    const progress = () => {
      if (tally.fetched >= PROGRESS_MIN) {
        const total = tally.fetched;
        this.#host.progress({ chat, from: s.name, done: Math.min(tally.merged, total - 1), total });
      }
    };
    let pending = raws;
    let stored = 0;
    progress();
    while (pending.length > 0) {
      const ever = new Set(groups.everMembers(chat).map(toHex));
      const now = pending.filter((r) => ever.has(r.hex));
      const later = pending.filter((r) => !ever.has(r.hex));
      if (now.length === 0) break;
      let progressed = 0;
      const retry: typeof pending = [];
      for (let i = 0; i < now.length; i += MERGE_CHUNK) {
        const chunk = now.slice(i, i + MERGE_CHUNK);
        const res = await log.merge(chat, chunk);
        const gaps = new Set(
          res.rejected.filter((r) => r.code === "seq_gap").map((r) =>
            `${toHex(r.author!)}/${r.seq}`
          ),
        );
        if (gaps.size > 0) {
          for (const r of chunk) if (gaps.has(`${r.hex}/${r.seq}`)) retry.push(r);
        }
        progressed += res.stored.length;
        tally.merged += chunk.length - gaps.size;
        if (res.stored.length > 0) await this.#host.stored(chat, res.stored);
        progress();
      }
      stored += progressed;
      pending = [...later, ...retry];
      if (progressed === 0) break;
    }
    tally.merged += pending.length;
    if (stored > 0) {
      const g = groups.get(chat);
      this.#host.say(
        `mailbox of ${s.name}: ${stored} new entr${stored === 1 ? "y" : "ies"} in ${
          g?.name ?? chat
        }${pending.length > 0 ? `, ${pending.length} not taken` : ""}`,
      );
    }
  }

  async #notePushed(anchor: Uint8Array, chat: string, heads: Map<string, number>): Promise<void> {
    const key = keys.mboxPushed(anchor, chat);
    const pushed = (await this.#host.kv.get<Record<string, number>>(key)).value ?? {};
    let changed = false;
    for (const [k, seq] of heads) {
      if ((pushed[k] ?? 0) < seq) {
        pushed[k] = seq;
        changed = true;
      }
    }
    if (changed) await this.#host.kv.set(key, pushed);
  }

  /**
   * Leaves a pointer to the group for each fellow member not pointed to at
   * this anchor since their membership began (so a re-add gets a new one).
   */
  async #point(s: AnchorSession, chat: string, epochs: MailEpoch[]): Promise<void> {
    const g = this.#host.groups.get(chat);
    if (!g) return;
    const key = keys.mboxPushed(s.peer, chat);
    const pushed = (await this.#host.kv.get<Record<string, number | string>>(key)).value ?? {};
    const me = toHex(this.#me);
    const body = new TextEncoder().encode(JSON.stringify({
      c: chat,
      e: epochs.slice(-MAX_POINTER_EPOCHS).map((ep) => [ep.id, base64.encode(ep.secret)]),
    }));
    for (const [hex, m] of g.membership.members) {
      if (hex === me || s.rpc.closed) continue;
      const since = stretchStart(g.membership, hex);
      if (since === null || pushed[`to:${hex}`] === since) continue;
      const pk = pointerKeys(x25519SharedSecret(this.#host.keyPair, m.key), m.key);
      const id = boxId(pk, sha256(new TextEncoder().encode(`${chat}/${since}`)));
      const res = check(
        "mbox.put",
        "result",
        await s.rpc.request("mbox.put", {
          tag: pk.tag,
          items: [{ i: id, b: encodeB64(sealBox(pk, body, new Uint8Array())) }],
        }, 30_000),
      );
      if (res.taken < 1) return; // quota: the log line comes from #push
      pushed[`to:${hex}`] = since;
      await this.#host.kv.set(key, pushed);
    }
  }

  /** Reads the pointers contacts left for us and joins the groups they point to. */
  async #readPointers(s: AnchorSession): Promise<void> {
    for (const them of this.#host.contacts()) {
      if (s.rpc.closed) return;
      const pk = pointerKeys(x25519SharedSecret(this.#host.keyPair, them), this.#me);
      this.#pointerTags.add(pk.tag);
      const cursorKey = keys.mboxCursor(s.peer, `to:${toHex(them)}`);
      const cursor = (await this.#host.kv.get<Cursor>(cursorKey)).value ?? { gen: "", after: 0 };
      const get = async (from: number) =>
        check(
          "mbox.get",
          "result",
          await s.rpc.request("mbox.get", { tag: pk.tag, after: from, limit: 100 }, 30_000),
        );
      let res = await get(cursor.after);
      // A new mailbox (its data was lost): read it from the start.
      if (res.gen !== cursor.gen && cursor.after > 0) res = await get(0);
      let after = res.gen === cursor.gen ? cursor.after : 0;
      for (const item of res.items) {
        after = Math.max(after, item.n);
        const opened = openBox(pk, decodeB64(item.b));
        if (!opened) continue;
        let pointer: z.infer<typeof PointerBody>;
        try {
          pointer = PointerBody.parse(JSON.parse(new TextDecoder().decode(opened.signed)));
        } catch {
          continue;
        }
        if (!isGroupChatId(pointer.c)) continue;
        if (this.#host.groups.get(pointer.c)?.membership.members.has(toHex(this.#me))) continue;
        const secrets: Uint8Array[] = [];
        for (const [, b64] of pointer.e) {
          try {
            const secret = base64.decode(b64);
            if (secret.length === MAILBOX_SECRET_BYTES) secrets.push(secret);
          } catch { /* skipped */ }
        }
        await this.#joinPointed(s, pointer.c, secrets);
      }
      await this.#host.kv.set(cursorKey, { gen: res.gen, after });
    }
  }

  /** Fetches a group we are not in from the anchor, under the pointed epochs, and offers it to the host. */
  async #joinPointed(s: AnchorSession, chat: string, secrets: Uint8Array[]): Promise<void> {
    const raws: RawEntry[] = [];
    for (const secret of secrets) {
      const mk = mailboxKeys(secret);
      let after = 0;
      for (let more = true; more && raws.length < ROUND_BOXES && !s.rpc.closed;) {
        const res = check(
          "mbox.get",
          "result",
          await s.rpc.request("mbox.get", { tag: mk.tag, after, limit: 500 }, 30_000),
        );
        for (const item of res.items) {
          after = Math.max(after, item.n);
          const raw = openBox(mk, decodeB64(item.b));
          if (raw) raws.push(raw);
        }
        more = res.more && res.items.length > 0;
      }
    }
    if (raws.length === 0) return;
    if (await this.#host.join(chat, raws, s.name)) this.#visit(s, chat, true);
  }

  /** Hands the anchor every entry of the group it was not handed before, in chain order. */
  async #push(
    s: AnchorSession,
    chat: string,
    epochs: MailEpoch[],
    forward: boolean,
  ): Promise<void> {
    const { kv, log } = this.#host;
    const key = keys.mboxPushed(s.peer, chat);
    const pushed = (await kv.get<Record<string, number | string>>(key)).value ?? {};
    const save = async (k: string, seq: number) => {
      pushed[k] = seq;
      await kv.set(key, pushed);
    };
    const me = toHex(this.#me);
    for (const [k, head] of await log.heads(chat)) {
      if (!forward && k !== me) continue;
      let from = Number(pushed[k] ?? 0);
      while (from < head.seq && !s.rpc.closed) {
        const entries = await log.entriesAfter(chat, head.author, from, 500);
        if (entries.length === 0) break;
        /** The boxes to hand over: entry index, epoch, box id; in entry order. */
        const boxes = entries.flatMap((e, j) =>
          this.#fileUnder(epochs, e).map((ep) => ({ j, ep, id: boxId(ep.keys, e.hash) }))
        );
        // Someone else's entries: their author or another member has often handed them
        // over already, so ask first instead of uploading the same boxes again.
        const held = new Set<string>();
        if (k !== me) {
          for (const ep of new Set(boxes.map((b) => b.ep))) {
            const ids = boxes.filter((b) => b.ep === ep).map((b) => b.id);
            const res = check(
              "mbox.has",
              "result",
              await s.rpc.request("mbox.has", { tag: ep.keys.tag, ids }, 30_000),
            );
            const missing = new Set(res.missing);
            for (const id of ids) if (!missing.has(id)) held.add(`${ep.id}/${id}`);
          }
        }
        // One put per run of boxes under one tag, in entry order.
        for (let b = 0; b < boxes.length && !s.rpc.closed;) {
          const ep = boxes[b]!.ep;
          const items: Array<{ i: string; b: string }> = [];
          const at: number[] = [];
          let bytes = 0;
          for (; b < boxes.length && boxes[b]!.ep === ep; b++) {
            const x = boxes[b]!;
            if (held.has(`${ep.id}/${x.id}`)) continue;
            const e = entries[x.j]!;
            const box = sealBox(ep.keys, e.signed, e.sig);
            if (items.length > 0 && bytes + box.length > PUT_BYTES) break;
            items.push({ i: x.id, b: encodeB64(box) });
            at.push(x.j);
            bytes += box.length;
          }
          if (items.length === 0) continue;
          const res = check(
            "mbox.put",
            "result",
            await s.rpc.request("mbox.put", { tag: ep.keys.tag, items }, 30_000),
          );
          if (res.reason || res.taken < items.length) {
            // Every entry before the first one refused is held: hand over from there next time.
            const refused = at[Math.min(res.taken, at.length - 1)]!;
            if (refused > 0) await save(k, entries[refused - 1]!.seq);
            this.#host.say(
              `${s.name} holds no more group mail from us: ${res.reason ?? "refused"}`,
            );
            return;
          }
        }
        if (s.rpc.closed) return;
        from = entries.at(-1)!.seq;
        await save(k, from);
      }
    }
  }
}

/**
 * The epoch that began `hex`'s current stretch of membership: the first of
 * the trailing run of epochs sealed to them. Null when the newest is not.
 */
function stretchStart(m: Membership, hex: string): string | null {
  let since: string | null = null;
  for (let i = m.epochs.length - 1; i >= 0 && m.epochs[i]!.keys.has(hex); i--) {
    since = m.epochs[i]!.id;
  }
  return since;
}
