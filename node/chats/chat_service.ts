/**
 * A person's chats on this node: writing (notes, direct messages, group
 * messages), reading with read marks and unread counts, delivery state, and
 * every entry shown as a message event. Syncing with peers is
 * session_syncs.ts; group membership is group_service.ts.
 */
import type { ChatView, ForkView, MessageView } from "../api/mod.ts";
import type { ContactBook } from "../contacts/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { Group, GroupBook } from "../groups/mod.ts";
import { fingerprint, type Signer } from "../identity/mod.ts";
import { type ChatLog, type Entry, type Fork, toHex } from "../log/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import type { DeliveryMarks } from "../sync/mod.ts";
import { type ChatRef, memberNamer, messageView, type Viewer } from "../views/mod.ts";
import type { ChatDirectory } from "./chat_directory.ts";
import type { RestoreGate } from "./restore_gate.ts";

export interface ChatServiceDeps {
  readonly me: Uint8Array;
  readonly myName: string;
  readonly signer: Signer;
  /** The contact a device key belongs to (node/linking), for naming its entries. @default none */
  readonly personOf?: (key: Uint8Array) => Uint8Array | undefined;
  readonly log: ChatLog;
  readonly store: Store;
  readonly marks: DeliveryMarks;
  /** How far an anchor holds our 1:1 entries for the peer (1:1 mail). */
  readonly anchored: DeliveryMarks;
  readonly directory: ChatDirectory;
  readonly contacts: ContactBook;
  readonly groups: GroupBook;
  readonly bus: EventBus;
  /** Holds writes to direct chats after a restore until their peer was heard. */
  readonly restoreGate: RestoreGate;
}

/** Who learns of a local write, wired by node.ts: the session that pushes it, the groups that pass it on. */
export interface ChatOutlets {
  /** Our entries in direct chat `chat` changed: push them to `peer` if a session is up. */
  pushDirect(chat: string, peer: Uint8Array): void;
  /** We wrote to group `id`: bring every session and mailbox in line. */
  groupWritten(id: string): void;
}

export class ChatService {
  readonly #d: ChatServiceDeps;
  #outlets: ChatOutlets = { pushDirect: () => {}, groupWritten: () => {} };
  /** Authors' fingerprints by key (hex), for message views. */
  readonly #fingerprints = new Map<string, string>();
  readonly #viewer: Viewer;

  constructor(deps: ChatServiceDeps) {
    this.#d = deps;
    this.#viewer = {
      me: deps.me,
      myName: deps.myName,
      contactName: (key) => {
        const c = deps.contacts.get(key);
        if (c) return c.name;
        // A contact's device: shown by its person's name (its own fingerprint stays beside it).
        const person = deps.personOf?.(key);
        return person && deps.contacts.get(person)?.name;
      },
      fingerprintOf: (key) => {
        // A catch-up shows thousands of messages by one author: hash its key once.
        const hex = toHex(key);
        let fp = this.#fingerprints.get(hex);
        if (fp === undefined) {
          if (this.#fingerprints.size >= 1024) this.#fingerprints.clear();
          this.#fingerprints.set(hex, fp = fingerprint(key));
        }
        return fp;
      },
    };
  }

  set outlets(o: ChatOutlets) {
    this.#outlets = o;
  }

  /** How a group member (hex) is shown here. */
  memberName(g: Group): (hex: string) => string {
    return memberNamer(g, this.#d.me, this.#d.myName, (key) => this.#d.contacts.get(key)?.name);
  }

  /** One entry as a message; `anchored`: how far an anchor holds ours for the peer. */
  view(chat: ChatRef, e: Entry, delivered: number, body?: string, anchored = 0): MessageView {
    return messageView(this.#viewer, chat, e, delivered, body, anchored);
  }

  /** Entries as views; a group's are decrypted, which needs the chat's history before them. */
  async views(
    chat: ChatRef,
    entries: readonly Entry[],
    delivered?: number,
  ): Promise<MessageView[]> {
    const d = delivered ?? await this.delivered(chat);
    if (chat.kind !== "group") {
      const a = chat.peer ? await this.#d.anchored.get(chat.id, chat.peer.publicKey) : 0;
      return entries.map((e) => this.view(chat, e, d, undefined, a));
    }
    const g = this.#d.groups.get(chat.id);
    if (!g) return entries.map((e) => this.view(chat, e, d, "(cannot decrypt)"));
    const all = this.#d.groups.context(chat.id, entries);
    const lines = await this.#d.groups.lines(chat.id, entries, this.memberName(g), { all });
    return lines.map((l) => this.view(chat, l.entry, d, l.text));
  }

  /** Shows entries that arrived or were written here, in order. */
  async show(chat: ChatRef, entries: readonly Entry[]): Promise<void> {
    for (const v of await this.views(chat, entries)) {
      this.#d.bus.emit({ type: "message", message: v });
    }
  }

  /** Who must hold our entries for them to count as delivered: the contact; in a group, anyone. */
  #deliveryTo(chat: ChatRef): Uint8Array | null {
    if (chat.peer) return chat.peer.publicKey;
    if (chat.kind === "group") return this.#d.me;
    return null;
  }

  delivered(chat: ChatRef): Promise<number> {
    const who = this.#deliveryTo(chat);
    return who ? this.#d.marks.get(chat.id, who) : Promise.resolve(0);
  }

  /** A peer holds our entries up to `seq`: raise the mark, and tell followers when it moved. */
  async markDelivered(chat: ChatRef, seq: number): Promise<void> {
    const who = this.#deliveryTo(chat);
    if (who && await this.#d.marks.raise(chat.id, who, seq)) {
      this.#d.bus.emit({ type: "delivered", chat: chat.name, seq });
    }
  }

  /**
   * An anchor holds our entries of 1:1 chat `chatId` up to `seq` for the
   * peer: raise that mark (shown as "at-anchor" until delivered).
   */
  async markAnchored(chatId: string, peer: Uint8Array, seq: number): Promise<boolean> {
    return await this.#d.anchored.raise(chatId, peer, seq);
  }

  /** Adds a note to self. Resolves once it is committed. */
  note(text: string): Promise<Entry> {
    if (text.trim() === "") throw new RojError("bad_input", "the note is empty");
    return this.#d.log.append(this.#d.directory.notes().id, this.#d.signer, "msg", text);
  }

  /** Adds a note and shows it. */
  async noteView(text: string): Promise<MessageView> {
    const view = this.view(this.#d.directory.notes(), await this.note(text), 0);
    this.#d.bus.emit({ type: "message", message: view });
    return view;
  }

  /** Writes a message to a chat; delivered when its peer (any member, in a group) holds it. */
  async send(chatName: string, text: string): Promise<MessageView> {
    if (text.trim() === "") throw new RojError("bad_input", "the message is empty");
    const chat = this.#d.directory.chat(chatName);
    if (chat.kind === "group") {
      const entries = await this.#d.groups.send(this.#d.signer, chat.id, text);
      const views = await this.views(chat, entries);
      for (const v of views) this.#d.bus.emit({ type: "message", message: v });
      this.#outlets.groupWritten(chat.id);
      return views.at(-1)!;
    }
    if (chat.peer) this.#d.restoreGate.check(chat.id, chat.name);
    const e = await this.#d.log.append(chat.id, this.#d.signer, "msg", text);
    // Push first: delivery latency should not wait on reading the delivery state.
    if (chat.peer) this.#outlets.pushDirect(chat.id, chat.peer.publicKey);
    const [view] = await this.views(chat, [e]);
    this.#d.bus.emit({ type: "message", message: view! });
    return view!;
  }

  /** A chat's entries in display order; the newest `last` with `last`. */
  entries(name: string, options: { last?: number } = {}): Promise<Entry[]> {
    return this.#d.log.read(this.#d.directory.chat(name).id, options);
  }

  /** A chat's messages; marks it read unless `markRead` is false. */
  async read(name: string, options: { last?: number; markRead?: boolean }): Promise<MessageView[]> {
    const chat = this.#d.directory.chat(name);
    const entries = await this.#d.log.read(
      chat.id,
      options.last !== undefined ? { last: options.last } : {},
    );
    if (options.markRead !== false && entries.length > 0) {
      const kv = this.#d.store.kv;
      const clock = await kv.get<number>(keys.chatClock(chat.id));
      await kv.set(
        keys.readMark(chat.id),
        typeof clock.value === "number" ? clock.value : entries.at(-1)!.lamport,
      );
    }
    return await this.views(chat, entries);
  }

  async #unread(chat: ChatRef): Promise<number> {
    const mark = await this.#d.store.kv.get<number>(keys.readMark(chat.id));
    const seen = typeof mark.value === "number" ? mark.value : 0;
    return await this.#d.log.countNewer(chat.id, seen, { except: this.#d.me, limit: 10_000 });
  }

  /** The forks on record in the chat called `name`, or in every chat. */
  async forks(name?: string): Promise<ForkView[]> {
    const chats = name === undefined ? this.#d.directory.all() : [this.#d.directory.chat(name)];
    const out: ForkView[] = [];
    for (const chat of chats) {
      for (const f of await this.#d.log.forks(chat.id)) out.push(this.#forkView(chat, f));
    }
    return out;
  }

  /** The log recorded a fork: tell followers and the log, once. */
  forkSeen(f: Fork): void {
    const chat = this.#d.directory.byId(f.chat);
    if (!chat) return; // not a chat shown here
    const fork = this.#forkView(chat, f);
    this.#d.bus.emit({ type: "fork", fork });
    this.#d.bus.say(
      fork.mine
        ? `this identity signed two different entries #${fork.seq} in ${fork.chat}: ` +
          "is it running on another device too? The first is kept"
        : `${fork.author}'s node signed two different entries #${fork.seq} in ${fork.chat}; ` +
          "the first is kept, no more of that fork is taken",
    );
  }

  #forkView(chat: ChatRef, f: Fork): ForkView {
    const hex = toHex(f.author);
    const mine = hex === toHex(this.#d.me);
    const g = chat.kind === "group" ? this.#d.groups.get(chat.id) : undefined;
    const fp = this.#viewer.fingerprintOf(f.author);
    return {
      chat: chat.name,
      author: mine
        ? this.#d.myName
        : g
        ? this.memberName(g)(hex)
        : this.#d.contacts.get(f.author)?.name ?? fp,
      authorFingerprint: fp,
      mine,
      seq: f.seq,
      kept: toHex(f.kept),
      twin: toHex(f.twin.hash),
      firstSeen: f.seen,
    };
  }

  /** Every chat with its unread count and last message. */
  async chats(): Promise<ChatView[]> {
    const out: ChatView[] = [];
    for (const chat of this.#d.directory.all()) {
      const [last] = await this.#d.log.read(chat.id, { last: 1 });
      out.push({
        name: chat.name,
        id: chat.id,
        kind: chat.kind,
        unread: await this.#unread(chat),
        last: last ? (await this.views(chat, [last]))[0]! : null,
      });
    }
    return out;
  }
}
