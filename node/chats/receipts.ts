/**
 * Read receipts (direct chats; groups in group_receipts.ts) and typing notices (direct chats and groups):
 * session frames, never entries in a log, never sent through an anchor or a
 * mailbox.
 *
 * A receipt is "I have read your entries up to your #seq" (`chat.read`): the
 * seq is of the receiver's own entries, so it tells them nothing but "read"
 * (and when). It is sent when the person reads the chat and again when a
 * session comes up (the newest only), and is session-level rather than
 * signed: it proves nothing to a third party. Receipts can be off for
 * everyone or for one contact; off means none are sent to them and none of
 * theirs are shown (the newest is kept, and shows if they are turned on).
 *
 * Typing (`chat.typing`) is at most one notice per TYPING_SEND_MS per chat
 * from here (in a group, to each member with a session up here), and a
 * peer's notices beyond one per TYPING_TAKE_MS in a chat are dropped.
 * Both are judged on the clock given (node/clock).
 */
import type { ReceiptsView } from "../api/mod.ts";
import type { Clock } from "../clock/mod.ts";
import type { ContactBook } from "../contacts/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { GroupBook } from "../groups/mod.ts";
import { directChatId, toHex } from "../log/mod.ts";
import { peerHas, RECEIPTS_FEATURE, type RpcSession, TYPING_FEATURE } from "../protocol/mod.ts";
import type { PeerSession } from "../peers/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import type { ChatDirectory } from "./chat_directory.ts";
import { GroupReceipts } from "./group_receipts.ts";

/** Least time between two typing notices this node sends in one chat, in ms. */
export const TYPING_SEND_MS = 3000;
/** Least time between two typing notices taken from one peer in one chat, in ms (more are dropped). */
export const TYPING_TAKE_MS = 1000;

export interface ReceiptsDeps {
  readonly me: Uint8Array;
  readonly store: Store;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly contacts: ContactBook;
  readonly groups: GroupBook;
  readonly directory: ChatDirectory;
  /** The live session with a contact, if any. */
  session(peer: Uint8Array): (PeerSession & { readonly anchor: boolean }) | undefined;
}

export class Receipts {
  readonly #d: ReceiptsDeps;
  #on = true;
  /** Contacts (hex) receipts are off for. */
  readonly #off = new Set<string>();
  /** chat id → highest own seq the contact read, as their receipts said. */
  readonly #readBy = new Map<string, number>();
  /** chat id → when we last sent a typing notice. */
  readonly #typingSent = new Map<string, number>();
  /** peer hex/chat id → when we last took a typing notice from them there. */
  readonly #typingTaken = new Map<string, number>();
  /** The same in groups (group_receipts.ts). */
  #group!: GroupReceipts;

  private constructor(deps: ReceiptsDeps) {
    this.#d = deps;
  }

  /** Loads the settings and the receipts held. */
  static async open(deps: ReceiptsDeps): Promise<Receipts> {
    const r = new Receipts(deps);
    r.#group = await GroupReceipts.open({ ...deps, on: (peer) => r.on(peer) });
    const kv = deps.store.kv;
    r.#on = (await kv.get<boolean>(keys.receiptsOn())).value !== false;
    for await (const e of kv.list<boolean>({ prefix: ["receipts-off"] })) {
      const peer = e.key[1];
      if (peer instanceof Uint8Array && e.value === true) r.#off.add(toHex(peer));
    }
    for await (const e of kv.list<number>({ prefix: ["read-by"] })) {
      if (typeof e.key[1] === "string" && typeof e.value === "number") {
        r.#readBy.set(e.key[1], e.value);
      }
    }
    return r;
  }

  /** Whether receipts go to and come from `peer`. */
  on(peer: Uint8Array): boolean {
    return this.#on && !this.#off.has(toHex(peer));
  }

  view(): ReceiptsView {
    const offFor = this.#d.contacts.all()
      .filter((c) => this.#off.has(toHex(c.publicKey)))
      .map((c) => c.name);
    return { on: this.#on, offFor };
  }

  /** Turns receipts on or off, for everyone (no `contact`) or for one contact. */
  async set(on: boolean, contact?: string): Promise<ReceiptsView> {
    const kv = this.#d.store.kv;
    if (contact === undefined) {
      this.#on = on;
      await kv.set(keys.receiptsOn(), on);
    } else {
      const c = this.#d.directory.contact(contact);
      if (on) {
        this.#off.delete(toHex(c.publicKey));
        await kv.delete(keys.receiptsOff(c.publicKey));
      } else {
        this.#off.add(toHex(c.publicKey));
        await kv.set(keys.receiptsOff(c.publicKey), true);
      }
    }
    // What was off and is on again: tell the contacts how far we read.
    if (on) {
      for (const c of this.#d.contacts.all()) {
        if (contact !== undefined && c.name !== contact) continue;
        await this.#sendRead(c.publicKey);
        await this.#group.up(c.publicKey);
      }
    }
    return this.view();
  }

  /** The highest own seq in direct chat `chat` with `peer` the contact read (0 while off). */
  readUpTo(chat: string, peer: Uint8Array): number {
    return this.on(peer) ? this.#readBy.get(chat) ?? 0 : 0;
  }

  /** We have read `peer`'s entries in our direct chat up to their `seq`: keep it, tell them. */
  async read(peer: Uint8Array, seq: number): Promise<void> {
    const chat = directChatId(this.#d.me, peer);
    const kv = this.#d.store.kv;
    const had = (await kv.get<number>(keys.readOf(chat))).value ?? 0;
    if (seq <= had) return;
    await kv.set(keys.readOf(chat), seq);
    await this.#sendRead(peer);
  }

  /** A session came up: send our newest receipt for the direct chat, and each group's. */
  up(s: PeerSession & { readonly anchor: boolean }): void {
    if (!s.anchor) this.#sendRead(s.peer).catch(() => {});
    if (!s.anchor) this.#group.up(s.peer).catch(() => {});
  }

  /** The person read group `id` up to these seqs (author hex → seq): tell its members. */
  readGroup(id: string, heads: ReadonlyMap<string, number>): Promise<void> {
    return this.#group.read(id, heads);
  }

  /** The highest own seq in group `id` a member read, as receipts shown here say (0: none). */
  groupReadUpTo(id: string): number {
    return this.#group.readUpTo(id);
  }

  /** Sends our receipt to `peer`; resolves once it is on the session (not when answered). */
  async #sendRead(peer: Uint8Array): Promise<void> {
    const s = this.#d.session(peer);
    if (!s || s.anchor || !this.on(peer) || !peerHas(s.rpc.peerHello, RECEIPTS_FEATURE)) return;
    const chat = directChatId(this.#d.me, peer);
    try {
      const seq = (await this.#d.store.kv.get<number>(keys.readOf(chat))).value;
      if (typeof seq === "number" && seq > 0 && !s.rpc.closed && this.on(peer)) {
        s.rpc.request("chat.read", { chat, seq }).catch(() => {}); // the next session sends it again
      }
    } catch { /* the store is closing */ }
  }

  /**
   * Tells the contact of direct chat `chatName` (in a group: each member with
   * a session up here) we are typing, at most once per TYPING_SEND_MS; false
   * when nothing was sent (throttled, nobody online, or notes).
   */
  typing(chatName: string): boolean {
    const ref = this.#d.directory.chat(chatName);
    const me = toHex(this.#d.me);
    const to = ref.kind === "direct" && ref.peer
      ? [ref.peer.publicKey]
      : ref.kind === "group"
      ? [...(this.#d.groups.get(ref.id)?.membership.members ?? new Map()).entries()]
        .filter(([hex]) => hex !== me).map(([, m]) => m.key as Uint8Array)
      : [];
    const sessions = to.map((k) => this.#d.session(k))
      .filter((s) => s && !s.anchor && !s.rpc.closed && peerHas(s.rpc.peerHello, TYPING_FEATURE));
    if (sessions.length === 0) return false;
    const now = this.#d.clock.now();
    const last = this.#typingSent.get(ref.id);
    if (last !== undefined && now - last < TYPING_SEND_MS) return false;
    this.#typingSent.set(ref.id, now);
    for (const s of sessions) s!.rpc.request("chat.typing", { chat: ref.id }).catch(() => {});
    return true;
  }

  /** Serves a contact's receipts and typing notices on their session. */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    const chat = directChatId(this.#d.me, peer);
    const mustBeOurs = (id: string) => {
      if (id !== chat) throw new RojError("not_found", "no such chat");
    };
    rpc.handle("chat.read", async (p) => {
      if (p.chat !== chat) {
        await this.#group.took(peer, p.chat, p.seq); // a group both are in (greceipts)
        return {};
      }
      mustBeOurs(p.chat);
      if (p.seq <= (this.#readBy.get(chat) ?? 0)) return {};
      // Kept while off but not shown (readUpTo is 0 then): turned on again, it shows.
      this.#readBy.set(chat, p.seq);
      await this.#d.store.kv.set(keys.readBy(chat), p.seq);
      const ref = this.#d.directory.byId(chat);
      if (ref && this.on(peer)) this.#d.bus.emit({ type: "read", chat: ref.name, seq: p.seq });
      return {};
    });
    rpc.handle("chat.typing", (p) => {
      // Our direct chat, or a group both of us are in.
      const g = p.chat === chat ? undefined : this.#d.groups.get(p.chat);
      const members = g?.membership.members;
      if (p.chat !== chat && !(members?.has(toHex(peer)) && members.has(toHex(this.#d.me)))) {
        throw new RojError("not_found", "no such chat");
      }
      const k = `${toHex(peer)}/${p.chat}`;
      const now = this.#d.clock.now();
      const last = this.#typingTaken.get(k);
      if (last !== undefined && now - last < TYPING_TAKE_MS) return {};
      if (this.#typingTaken.size >= 4096) this.#typingTaken.clear();
      this.#typingTaken.set(k, now);
      const ref = this.#d.directory.byId(p.chat);
      const who = this.#d.contacts.get(peer)?.name;
      if (ref && who) this.#d.bus.emit({ type: "typing", chat: ref.name, who });
      return {};
    });
  }
}
