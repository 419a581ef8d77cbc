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
 *
 * Pointers: someone added while offline does not know the group yet, so
 * cannot derive its tag. Each member therefore also leaves, once per anchor,
 * group and fellow member M, a pointer box (the group's id and create nonce)
 * under a tag only it and M can compute from their pairwise X25519 secret
 * (salt "roj-mbox-pointer-v1", info M's key; see mailbox_crypto.ts). On each
 * connect a node reads the pointers its contacts left for it, fetches the
 * groups it does not know, and adopts those whose entries name it a member
 * (through a scratch log, as a group offered by a peer). The anchor learns
 * that the two use one tag, as it can already for sealed address records.
 */
import { base64 } from "@scure/base";
import { RojError } from "../errors.ts";
import { type ChatLog, decodeEntry, type Entry, type RawEntry, toHex } from "../log/mod.ts";
import { type KeyPair, x25519SharedSecret } from "../identity/mod.ts";
import { check, decodeB64, encodeB64, type RpcSession } from "../protocol/mod.ts";
import { keys } from "../store/mod.ts";
import { GROUP_OPS, type GroupBook, groupChatId } from "../groups/mod.ts";
import {
  boxId,
  type MailboxKeys,
  mailboxKeys,
  openBox,
  pointerKeys,
  sealBox,
} from "./mailbox_crypto.ts";

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
}

interface Cursor {
  gen: string;
  after: number;
}

export class GroupMailbox {
  readonly #host: GroupMailboxHost;
  readonly #anchors = new Map<string, AnchorSession>();
  readonly #keys = new Map<string, MailboxKeys>();
  /** Tags of the pointers left for us: a notify under one means a new pointer. */
  readonly #pointerTags = new Set<string>();
  /** Each group's create nonce, for pointers. */
  readonly #nonces = new Map<string, Uint8Array>();
  /** Per anchor and group, the visit under way, and whether another is due after it. */
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();

  readonly #me: Uint8Array;

  constructor(host: GroupMailboxHost) {
    this.#host = host;
    this.#me = host.keyPair.publicKey;
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
      if (this.#pointerTags.has(tag)) this.#readPointers(s).catch(() => {});
      return {};
    });
    for (const g of this.#host.groups.all()) this.#visit(s, g.id);
    this.#readPointers(s).catch((err) => {
      if (!s.rpc.closed) this.#host.say(`pointers at ${s.name}: ${(err as Error).message}`);
    });
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
    if (!g?.membership.members.has(toHex(this.#me)) || s.rpc.closed) return;
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
        await this.#point(s, chat, mk);
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
        this.#nonces.set(chat, nonce);
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

  /** Leaves a pointer to the group for each fellow member not pointed to at this anchor yet. */
  async #point(s: AnchorSession, chat: string, mk: MailboxKeys): Promise<void> {
    const g = this.#host.groups.get(chat);
    const nonce = this.#nonces.get(chat);
    if (!g || !nonce) return;
    const key = keys.mboxPushed(s.peer, chat);
    const pushed = (await this.#host.kv.get<Record<string, number>>(key)).value ?? {};
    const me = toHex(this.#me);
    const body = new TextEncoder().encode(JSON.stringify({ c: chat, n: base64.encode(nonce) }));
    for (const [hex, m] of g.membership.members) {
      if (hex === me || pushed[`to:${hex}`] || s.rpc.closed) continue;
      const pk = pointerKeys(x25519SharedSecret(this.#host.keyPair, m.key), m.key);
      const res = check(
        "mbox.put",
        "result",
        await s.rpc.request("mbox.put", {
          tag: pk.tag,
          items: [{ i: boxId(pk, mk.idKey), b: encodeB64(sealBox(pk, body, new Uint8Array())) }],
        }, 30_000),
      );
      if (res.taken < 1) return; // quota: the log line comes from #push
      pushed[`to:${hex}`] = 1;
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
        let chat: string, nonce: Uint8Array;
        try {
          const p = JSON.parse(new TextDecoder().decode(opened.signed)) as { c: string; n: string };
          [chat, nonce] = [String(p.c), base64.decode(String(p.n))];
        } catch {
          continue;
        }
        if (!/^g-[a-z2-7]{26}$/.test(chat)) continue;
        if (this.#host.groups.get(chat)?.membership.members.has(toHex(this.#me))) continue;
        await this.#joinPointed(s, chat, nonce);
      }
      await this.#host.kv.set(cursorKey, { gen: res.gen, after });
    }
  }

  /** Fetches a group we do not know from the anchor and offers it to the host to adopt. */
  async #joinPointed(s: AnchorSession, chat: string, nonce: Uint8Array): Promise<void> {
    const mk = mailboxKeys(chat, nonce);
    const raws: RawEntry[] = [];
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
      more = res.more;
    }
    if (raws.length === 0) return;
    if (await this.#host.join(chat, raws, s.name)) {
      this.#keys.set(chat, mk);
      this.#nonces.set(chat, nonce);
      this.#visit(s, chat);
    }
  }

  /** Hands the anchor every entry of the group it was not handed before, in chain order. */
  async #push(s: AnchorSession, chat: string, mk: MailboxKeys): Promise<void> {
    const { kv, log } = this.#host;
    const key = keys.mboxPushed(s.peer, chat);
    const pushed = (await kv.get<Record<string, number>>(key)).value ?? {};
    const save = async (k: string, seq: number) => {
      pushed[k] = seq;
      await kv.set(key, pushed);
    };
    for (const [k, head] of await log.heads(chat)) {
      let from = pushed[k] ?? 0;
      while (from < head.seq && !s.rpc.closed) {
        const entries = await log.entriesAfter(chat, head.author, from, 500);
        if (entries.length === 0) break;
        const ids = entries.map((e) => boxId(mk, e.hash));
        // Someone else's entries: their author or another member has often handed them
        // over already, so ask first instead of uploading the same boxes again.
        let held = (_id: string) => false;
        if (k !== toHex(this.#me)) {
          const res = check(
            "mbox.has",
            "result",
            await s.rpc.request("mbox.has", { tag: mk.tag, ids }, 30_000),
          );
          const missing = new Set(res.missing);
          const first = ids.findIndex((id) => missing.has(id));
          if (first !== 0) {
            from = entries.at(first < 0 ? -1 : first - 1)!.seq;
            await save(k, from);
            continue;
          }
          held = (id) => !missing.has(id);
        }
        const items: Array<{ i: string; b: string }> = [];
        /** For each item, the index of its entry. */
        const at: number[] = [];
        let covered = -1;
        let bytes = 0;
        for (let j = 0; j < entries.length; j++) {
          if (held(ids[j]!)) {
            covered = j;
            continue;
          }
          const box = sealBox(mk, entries[j]!.signed, entries[j]!.sig);
          if (items.length > 0 && bytes + box.length > PUT_BYTES) break;
          items.push({ i: ids[j]!, b: encodeB64(box) });
          at.push(j);
          covered = j;
          bytes += box.length;
        }
        const res = check(
          "mbox.put",
          "result",
          await s.rpc.request("mbox.put", { tag: mk.tag, items }, 30_000),
        );
        const all = res.taken >= items.length;
        const upTo = all ? covered : res.taken > 0 ? at[res.taken - 1]! : -1;
        if (upTo >= 0) {
          from = entries[upTo]!.seq;
          await save(k, from);
        }
        if (res.reason || !all) {
          this.#host.say(
            `${s.name} holds no more group mail from us: ${res.reason ?? "refused"}`,
          );
          return;
        }
      }
    }
  }
}
