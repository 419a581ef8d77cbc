/**
 * A group member's side of the anchor mailbox. On each session with an
 * anchor, and for each group this node is a member of: fetch the boxes filed
 * since the last visit, open them, and merge the entries as if a member had
 * pushed them; then hand the anchor, sealed, every entry of the group it was
 * not handed before (anyone's, so a member forwards for others). New local
 * entries are handed to the anchors connected at the time; the anchor tells
 * us (mbox.notify) when someone else filed boxes under a group's tag.
 *
 * Local state per anchor and group: the anchor's number of the last box
 * fetched (with the mailbox's generation, so a reset anchor is read again
 * from the start) and, per author, the last seq handed over.
 */
import { base64 } from "@scure/base";
import { RojError } from "../errors.ts";
import { type ChatLog, decodeEntry, type Entry, type RawEntry, toHex } from "../log/mod.ts";
import { check, decodeB64, encodeB64, type RpcSession } from "../protocol/mod.ts";
import { keys } from "../store/mod.ts";
import { GROUP_OPS, type GroupBook, groupChatId } from "../groups/mod.ts";
import { boxId, type MailboxKeys, mailboxKeys, openBox, sealBox } from "./mailbox_crypto.ts";

/** Boxes fetched before they are merged (then the next round fetches on). */
const ROUND_BOXES = 20_000;
/** Entries merged at once. */
const MERGE_CHUNK = 1000;
/** Smaller catch-ups from an anchor are not reported as progress. */
const PROGRESS_MIN = 100;
/** Bytes of boxes per put, so the request fits a frame in base64. */
const PUT_BYTES = 560 * 1024;

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
  readonly me: Uint8Array;
  /** Entries from an anchor were stored: refold, show, pass on (as for a member's push). */
  stored(chat: string, entries: Entry[]): Promise<void>;
  progress(p: MailboxProgress): void;
  say(line: string): void;
}

interface AnchorSession {
  readonly peer: Uint8Array;
  readonly rpc: RpcSession;
  readonly name: string;
}

interface Cursor {
  gen: string;
  after: number;
}

export class GroupMailbox {
  readonly #host: GroupMailboxHost;
  readonly #anchors = new Map<string, AnchorSession>();
  readonly #keys = new Map<string, MailboxKeys>();
  /** Per anchor and group, the visit under way, and whether another is due after it. */
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();

  constructor(host: GroupMailboxHost) {
    this.#host = host;
  }

  /** A session with an anchor is up: visit it for every group we are in. */
  attach(peer: Uint8Array, rpc: RpcSession, name: string): void {
    const k = toHex(peer);
    const s: AnchorSession = { peer, rpc, name };
    this.#anchors.set(k, s);
    rpc.onClose(() => {
      if (this.#anchors.get(k) === s) this.#anchors.delete(k);
    });
    rpc.handle("mbox.notify", async (p) => {
      const { tag } = check("mbox.notify", "params", p);
      for (const g of this.#host.groups.all()) {
        if ((await this.#keysOf(g.id))?.tag === tag) this.#visit(s, g.id);
      }
      return {};
    });
    for (const g of this.#host.groups.all()) this.#visit(s, g.id);
  }

  /** Group `chat` changed here: hand the new entries to every anchor we are connected to. */
  changed(chat: string): void {
    for (const s of this.#anchors.values()) this.#visit(s, chat);
  }

  /** Resolves when no visit is under way (for tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()]);
  }

  #visit(s: AnchorSession, chat: string): void {
    const g = this.#host.groups.get(chat);
    if (!g?.membership.members.has(toHex(this.#host.me)) || s.rpc.closed) return;
    const k = `${toHex(s.peer)}/${chat}`;
    if (this.#running.has(k)) {
      this.#again.add(k);
      return;
    }
    const run = (async () => {
      do {
        this.#again.delete(k);
        if (s.rpc.closed) break;
        const mk = await this.#keysOf(chat);
        if (!mk) break;
        await this.#fetch(s, chat, mk);
        await this.#push(s, chat, mk);
      } while (this.#again.has(k));
    })().catch((err) => {
      if (!s.rpc.closed) {
        this.#host.say(`mailbox of ${s.name} for ${chat}: ${(err as Error).message}`);
      }
    }).finally(() => this.#running.delete(k));
    this.#running.set(k, run);
  }

  /** The group's mailbox keys, from its founding entry; null before we hold it. */
  async #keysOf(chat: string): Promise<MailboxKeys | null> {
    const known = this.#keys.get(chat);
    if (known) return known;
    const m = this.#host.groups.get(chat)?.membership;
    const founder = m?.founder ? m.ever.get(m.founder) : undefined;
    if (!founder) return null;
    for (const e of await this.#host.log.entriesAfter(chat, founder, 0, 20)) {
      if (e.type !== GROUP_OPS.create) continue;
      try {
        const nonce = base64.decode((JSON.parse(e.body) as { nonce: string }).nonce);
        if (groupChatId(founder, nonce) !== chat) continue;
        const mk = mailboxKeys(chat, nonce);
        this.#keys.set(chat, mk);
        return mk;
      } catch { /* not this one */ }
    }
    return null;
  }

  async #fetch(s: AnchorSession, chat: string, mk: MailboxKeys): Promise<void> {
    const kv = this.#host.kv;
    const saved = (await kv.get<Cursor>(keys.mboxCursor(s.peer, chat))).value;
    let cursor: Cursor = saved ?? { gen: "", after: 0 };
    for (let more = true; more && !s.rpc.closed;) {
      const raws: Array<RawEntry & { author: Uint8Array; seq: number; lamport: number }> = [];
      let bad = 0;
      let after = cursor.after;
      let gen = cursor.gen;
      while (raws.length < ROUND_BOXES) {
        const res = check(
          "mbox.get",
          "result",
          await s.rpc.request("mbox.get", { tag: mk.tag, after, limit: 500 }, 30_000),
        );
        if (res.gen !== gen) {
          // A new mailbox (its data was lost): read it from the start.
          if (after !== 0) {
            after = 0;
            gen = res.gen;
            continue;
          }
          gen = res.gen;
        }
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
            raws.push({ ...raw, author: f.author, seq: f.seq, lamport: f.lamport });
          } catch {
            bad++;
          }
        }
        more = res.more;
        if (!more) break;
      }
      if (bad > 0) this.#host.say(`mailbox of ${s.name}: ${bad} boxes did not open; skipped`);
      if (raws.length > 0) await this.#merge(s, chat, raws);
      cursor = { gen, after };
      await kv.set(keys.mboxCursor(s.peer, chat), cursor);
    }
  }

  /** Merges fetched entries, authors' chains in order, letting membership grow as adds arrive. */
  async #merge(
    s: AnchorSession,
    chat: string,
    raws: Array<RawEntry & { author: Uint8Array; seq: number; lamport: number }>,
  ): Promise<void> {
    const { groups, log } = this.#host;
    raws.sort((a, b) => {
      const x = toHex(a.author), y = toHex(b.author);
      return x < y ? -1 : x > y ? 1 : a.seq - b.seq;
    });
    // The anchor holds these now: never hand them back.
    const held = new Map<string, number>();
    for (const r of raws) {
      held.set(toHex(r.author), Math.max(held.get(toHex(r.author)) ?? 0, r.seq));
    }
    await this.#notePushed(s.peer, chat, held);
    const total = raws.length;
    const progress = (done: number) => {
      if (total >= PROGRESS_MIN) this.#host.progress({ chat, from: s.name, done, total });
    };
    let done = 0;
    let pending = raws;
    let stored = 0;
    progress(0);
    while (pending.length > 0) {
      const ever = new Set(groups.everMembers(chat).map(toHex));
      const now = pending.filter((r) => ever.has(toHex(r.author)));
      const later = pending.filter((r) => !ever.has(toHex(r.author)));
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
        for (const r of chunk) if (gaps.has(`${toHex(r.author)}/${r.seq}`)) retry.push(r);
        progressed += res.stored.length;
        done += chunk.length - gaps.size;
        if (res.stored.length > 0) await this.#host.stored(chat, res.stored);
        progress(done);
      }
      stored += progressed;
      pending = [...later, ...retry];
      if (progressed === 0) break;
    }
    if (done < total) progress(total);
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

  /** Hands the anchor every entry of the group it was not handed before, in chain order. */
  async #push(s: AnchorSession, chat: string, mk: MailboxKeys): Promise<void> {
    const { kv, log } = this.#host;
    const key = keys.mboxPushed(s.peer, chat);
    const pushed = (await kv.get<Record<string, number>>(key)).value ?? {};
    for (const [k, head] of await log.heads(chat)) {
      let from = pushed[k] ?? 0;
      while (from < head.seq && !s.rpc.closed) {
        const entries = await log.entriesAfter(chat, head.author, from, 500);
        if (entries.length === 0) break;
        const items: Array<{ i: string; b: string }> = [];
        let bytes = 0;
        for (const e of entries) {
          const box = sealBox(mk, e.signed, e.sig);
          if (items.length > 0 && bytes + box.length > PUT_BYTES) break;
          items.push({ i: boxId(mk, e.hash), b: encodeB64(box) });
          bytes += box.length;
        }
        const res = check(
          "mbox.put",
          "result",
          await s.rpc.request("mbox.put", { tag: mk.tag, items }, 30_000),
        );
        if (res.taken > 0) {
          from = entries[Math.min(res.taken, items.length) - 1]!.seq;
          pushed[k] = from;
          await kv.set(key, pushed);
        }
        if (res.reason || res.taken < items.length) {
          this.#host.say(
            `${s.name} holds no more group mail from us: ${res.reason ?? "refused"}`,
          );
          return;
        }
      }
    }
  }
}
