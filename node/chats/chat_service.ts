/**
 * A person's chats on this node: writing (notes, direct messages, group
 * messages), reading with read marks and unread counts, delivery state, and
 * every entry shown as a message event. Syncing with peers is
 * session_syncs.ts; group membership is group_service.ts.
 */
import { hexToBytes } from "@noble/hashes/utils.js";
import type { ChatView, ForkView, MessageView } from "../api/mod.ts";
import type { ContactBook } from "../contacts/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import { type Group, GROUP_OPS, type GroupBook, isGroupOp } from "../groups/mod.ts";
import { fingerprint, type Signer } from "../identity/mod.ts";
import { type AppendItem, type ChatLog, type Entry, type Fork, toHex } from "../log/mod.ts";
import {
  ANNOTATION_TYPES,
  encodeRefBody,
  type FoldItem,
  foldMessages,
  type FoldResult,
  parseRefBody,
} from "../messages/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import type { DeliveryMarks } from "../sync/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { type ChatRef, memberNamer, messageView, type Viewer } from "../views/mod.ts";
import type { ChatDirectory } from "./chat_directory.ts";
import { type Annotation, targetOf } from "./message_target.ts";

/** Entries that are no new message to read: annotations, and a group's membership notes. */
const NOT_UNREAD: ReadonlySet<string> = new Set([...ANNOTATION_TYPES, ...Object.values(GROUP_OPS)]);

/** The most entries `read` looks back over for `last` messages. */
const MAX_LAST = 200_000;
/** How deep the chat list looks for a message past membership notes (a preview, not a search). */
const PREVIEW_DEPTH = 200;
import type { RestoreGate } from "./restore_gate.ts";
import { CommitOverlap } from "./commit_overlap.ts";
import { ReadMarks } from "./read_marks.ts";

export interface ChatServiceDeps {
  readonly me: Uint8Array;
  readonly myName: string;
  readonly signer: Signer;
  /** The contact a device key belongs to (node/linking), for naming its entries. @default none */
  readonly personOf?: (key: Uint8Array) => Uint8Array | undefined;
  /** On a device of a person: whether `key` is that person's (node/linking). @default none */
  readonly ownPerson?: (key: Uint8Array) => boolean;
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

/** A chat's entries folded (messages/fold): the result, and each entry by hash (hex). */
export interface FoldedChat {
  readonly result: FoldResult;
  readonly entries: ReadonlyMap<string, Entry>;
  /** What the fold took of each entry (its plaintext, in a group). */
  readonly items: ReadonlyMap<string, FoldItem>;
}

/** Who learns of a local write, wired by node.ts: the session that pushes it, the groups that pass it on. */
export interface ChatOutlets {
  /** Our entries in direct chat `chat` changed: push them to `peer` if a session is up. */
  pushDirect(chat: string, peer: Uint8Array): void;
  /**
   * Our entries `made` in direct chat `chat` are signed, their commit under
   * way: push them to `peer` now if a session is up (commit_overlap.ts).
   */
  pushEarly?(chat: string, peer: Uint8Array, made: Entry[], committed: Promise<void>): void;
  /** Whether a session with `peer` is up now (an early push can go out at all). */
  online?(peer: Uint8Array): boolean;
  /** We wrote to group `id`: bring every session and mailbox in line. */
  groupWritten(id: string): void;
  /** The person read direct chat `chat` up to the contact's `seq` (read receipts). */
  readDirect?(peer: Uint8Array, seq: number): Promise<void>;
  /** The highest own seq the contact of direct chat `chat` has read, as receipts shown here say. */
  readUpTo?(chat: string, peer: Uint8Array): number;
  /** The person read group `id` up to these seqs (author hex → seq), and the same back. */
  readGroup?(id: string, heads: ReadonlyMap<string, number>): Promise<void>;
  groupReadUpTo?(id: string): number;
}

export class ChatService {
  readonly #d: ChatServiceDeps;
  #outlets: ChatOutlets = { pushDirect: () => {}, groupWritten: () => {} };
  /** Authors' fingerprints by key (hex), for message views. */
  readonly #fingerprints = new Map<string, string>();
  readonly #viewer: Viewer;
  /** Per chat, the show() under way. */
  readonly #showing = new Map<string, Promise<void>>();
  readonly #overlap: CommitOverlap;
  /** How far the person read each chat (kept in step with the person's other devices). */
  readonly readMarks: ReadMarks;

  constructor(deps: ChatServiceDeps) {
    this.#d = deps;
    this.readMarks = new ReadMarks(deps.store.kv);
    this.#overlap = new CommitOverlap(deps.store);
    this.#viewer = {
      me: deps.me,
      myName: deps.myName,
      contactName: (key) => {
        const c = deps.contacts.get(key);
        if (c) return c.name;
        // On a device: what the person key (or another of its devices) wrote is the person's own.
        if (deps.ownPerson?.(key)) return deps.myName;
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
    return memberNamer(
      g,
      this.#d.me,
      this.#d.myName,
      // On a device the member is the person: shown by our own name, as our entries are.
      (key) =>
        this.#d.contacts.get(key)?.name ?? (this.#d.ownPerson?.(key) ? this.#d.myName : undefined),
      (name) => this.#d.contacts.byName(name) !== undefined,
    );
  }

  /** One entry as a message; `anchored`: how far an anchor holds ours for the peer. */
  view(chat: ChatRef, e: Entry, delivered: number, body?: string, anchored = 0): MessageView {
    return messageView(this.#viewerOf(chat), chat, e, delivered, body, anchored);
  }

  /** In a group, authors who are not contacts go by the name memberName gives them. */
  #viewerOf(chat: ChatRef): Viewer {
    const g = chat.kind === "group" ? this.#d.groups.get(chat.id) : undefined;
    if (!g) return this.#viewer;
    const name = this.memberName(g);
    return {
      ...this.#viewer,
      contactName: (key) =>
        this.#viewer.contactName(key) ??
          (g.membership.ever.has(toHex(key)) ? name(toHex(key)) : undefined),
    };
  }

  /**
   * Entries folded: replies, edits, retractions and reactions applied to the
   * messages they refer to (messages/fold). A group's are decrypted first,
   * which needs the chat's history before them.
   */
  async fold(chat: ChatRef, entries: readonly Entry[]): Promise<FoldedChat> {
    let texts: { entry: Entry; text: string | null }[];
    const g = chat.kind === "group" ? this.#d.groups.get(chat.id) : undefined;
    if (chat.kind !== "group") texts = entries.map((entry) => ({ entry, text: entry.body }));
    else if (!g) texts = entries.map((entry) => ({ entry, text: null }));
    else {
      const all = this.#d.groups.context(chat.id, entries);
      texts = await this.#d.groups.lines(chat.id, entries, this.memberName(g), { all });
    }
    const items: FoldItem[] = texts.map(({ entry: e, text }) => ({
      hash: toHex(e.hash),
      author: toHex(e.author),
      type: e.type,
      lamport: e.lamport,
      ts: e.ts,
      text,
    }));
    return {
      result: foldMessages(items),
      entries: new Map(texts.map(({ entry }) => [toHex(entry.hash), entry])),
      items: new Map(items.map((it) => [it.hash, it])),
    };
  }

  /** Entries as views: each message with its annotations; annotations are no messages of their own. */
  async views(
    chat: ChatRef,
    entries: readonly Entry[],
    delivered?: number,
  ): Promise<MessageView[]> {
    return this.foldedViews(chat, await this.fold(chat, entries), delivered);
  }

  /** The views of a folded chat's messages (those whose hash is in `only`, with `only`). */
  async foldedViews(
    chat: ChatRef,
    folded: FoldedChat,
    delivered?: number,
    only?: ReadonlySet<string>,
  ): Promise<MessageView[]> {
    const d = delivered ?? await this.delivered(chat);
    const readUpTo = chat.kind === "direct" && chat.peer
      ? this.#outlets.readUpTo?.(chat.id, chat.peer.publicKey) ?? 0
      : chat.kind === "group"
      ? this.#outlets.groupReadUpTo?.(chat.id) ?? 0
      : 0;
    // 1:1 mail: how far an anchor holds our entries for the peer ("at-anchor").
    const anchored = chat.kind !== "group" && chat.peer
      ? await this.#d.anchored.get(chat.id, chat.peer.publicKey)
      : 0;
    const byHash = new Map(folded.result.shown.map((f) => [f.item.hash, f]));
    const viewer = this.#viewerOf(chat);
    const out: MessageView[] = [];
    for (const f of folded.result.shown) {
      if (only && !only.has(f.item.hash)) continue;
      const e = folded.entries.get(f.item.hash)!;
      const target = f.replyTo !== null ? byHash.get(f.replyTo) : undefined;
      out.push(
        messageView(viewer, chat, e, d, f.text, anchored, {
          folded: f,
          ...(target ? { target } : {}),
          readUpTo,
        }),
      );
    }
    return out;
  }

  /**
   * Shows entries that arrived or were written here, in order; an edit,
   * retraction or reaction shows as the message it changes, and one that is
   * refused (someone else's edit of a message, say) is said with its reason.
   */
  show(chat: ChatRef, entries: readonly Entry[]): Promise<void> {
    // One at a time per chat, so events keep the order the entries came in.
    const shown = (this.#showing.get(chat.id) ?? Promise.resolve())
      .then(() => this.#show(chat, entries));
    const settled = shown.catch(() => {});
    this.#showing.set(chat.id, settled);
    settled.then(() => {
      if (this.#showing.get(chat.id) === settled) this.#showing.delete(chat.id);
    });
    return shown;
  }

  async #show(chat: ChatRef, entries: readonly Entry[]): Promise<void> {
    if (!entries.some((e) => ANNOTATION_TYPES.has(e.type) || e.type === "reply")) {
      for (const v of await this.views(chat, entries)) {
        this.#d.bus.emit({ type: "message", message: v });
      }
      return;
    }
    // The targets (and what a reply quotes) may be anywhere in the chat: fold all of it.
    const folded = await this.fold(chat, await this.#d.log.read(chat.id));
    const fresh = new Set(entries.map((e) => toHex(e.hash)));
    const touched = new Set(fresh);
    for (const h of fresh) {
      const it = folded.items.get(h);
      const to = it && it.text !== null ? parseRefBody(it.type, it.text)?.to : undefined;
      if (to && ANNOTATION_TYPES.has(it!.type)) touched.add(to);
    }
    for (const { item, reason } of folded.result.ignored) {
      if (!fresh.has(item.hash)) continue;
      const author = folded.entries.get(item.hash)!.author;
      const who = this.#viewer.contactName(author) ?? this.#viewer.fingerprintOf(author);
      this.#d.bus.say(`${who}'s ${item.type} in ${chat.name} is ignored: ${reason}`);
    }
    for (const v of await this.foldedViews(chat, folded, undefined, touched)) {
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

  /**
   * Writes a message to a chat (a reply to the message `reply` names, with
   * `reply`); delivered when its peer (any member, in a group) holds it.
   */
  async send(chatName: string, text: string, reply?: string): Promise<MessageView> {
    if (text.trim() === "") throw new RojError("bad_input", "the message is empty");
    const chat = this.#d.directory.chat(chatName);
    if (reply !== undefined) {
      return await this.annotate(chatName, { type: "reply", id: reply, text });
    }
    const entries = await this.#write(chat, "msg", text);
    const views = await this.views(chat, entries);
    for (const v of views) this.#d.bus.emit({ type: "message", message: v });
    return views.at(-1)!;
  }

  /** Appends an entry of `type` to a chat (encrypted, in a group) and lets it go out. */
  async #write(chat: ChatRef, type: string, text: string): Promise<Entry[]> {
    if (chat.kind === "group") {
      const entries = await this.#d.groups.send(this.#d.signer, chat.id, text, type);
      this.#outlets.groupWritten(chat.id);
      return entries;
    }
    if (!chat.peer) return [await this.#d.log.append(chat.id, this.#d.signer, type, text)];
    this.#d.restoreGate.check(chat.id, chat.name);
    const [e] = await this.#appendDirect(chat.id, chat.peer.publicKey, [{ type, body: text }]);
    // Push first: delivery latency should not wait on reading the delivery state.
    this.#outlets.pushDirect(chat.id, chat.peer.publicKey);
    return [e!];
  }

  /**
   * Appends to direct chat `chat` with `peer`, the entries going to the peer
   * while they commit once the chat's overlap marker is down (commit_overlap.ts).
   */
  async #appendDirect(chat: string, peer: Uint8Array, items: AppendItem[]): Promise<Entry[]> {
    // Only while the peer is there: with no session nothing goes out early, so a chat
    // written offline gets no marker, and is not held after a crash (commit_overlap.ts).
    const online = this.#outlets.online?.(peer) ?? false;
    const marker = online ? this.#overlap.markerFor(chat) : null;
    const early = online && this.#overlap.early(chat) ? this.#outlets.pushEarly : undefined;
    let went = false;
    const signed = (made: Entry[], committed: Promise<void>) => {
      went = true;
      early!(chat, peer, made, committed);
    };
    try {
      const made = await this.#d.log.appendMany(chat, this.#d.signer, items, {
        ...(marker ? { alsoSet: marker } : {}),
        ...(early ? { signed } : {}),
      });
      if (marker) this.#overlap.marked(chat);
      return made;
    } catch (err) {
      if (went) {
        // They may be with the peer and not here: take them back before writing again.
        this.#overlap.forget(chat);
        this.#d.restoreGate.trip(chat);
      }
      throw err;
    }
  }

  /** A clean close, after the sessions: once every write has settled, no chat needs recovering. */
  close(): Promise<void> {
    return this.#overlap.close(this.#d.log);
  }

  /**
   * Replies to, edits, deletes for everyone or reacts to the message `id`
   * names (its id, or a prefix of its hash) in a chat: a signed entry that
   * refers to it by hash. Refused with a reason when not allowed: only the
   * author edits or deletes, and a deleted message takes nothing more.
   * Resolves with the reply, or with the message as it now shows.
   */
  async annotate(chatName: string, a: Annotation): Promise<MessageView> {
    const chat = this.#d.directory.chat(chatName);
    const target = targetOf(await this.fold(chat, await this.#d.log.read(chat.id)), a, {
      me: toHex(this.#d.me),
      name: (hex) => {
        const key = hexToBytes(hex);
        return this.#viewer.contactName(key) ?? this.#viewer.fingerprintOf(key);
      },
    });
    const to = target.item.hash;
    const body = a.type === "reply" || a.type === "edit"
      ? encodeRefBody({ type: a.type, to, text: a.text })
      : a.type === "retract"
      ? encodeRefBody({ type: a.type, to })
      : encodeRefBody({ type: a.type, to, emoji: a.emoji });
    const entries = await this.#write(chat, a.type, body);
    await this.show(chat, entries);
    const shown = a.type === "reply" ? toHex(entries.at(-1)!.hash) : to;
    const folded = await this.fold(chat, await this.#d.log.read(chat.id));
    return (await this.foldedViews(chat, folded, undefined, new Set([shown])))[0]!;
  }

  /** A chat's entries in display order; the newest `last` with `last`. */
  entries(name: string, options: { last?: number } = {}): Promise<Entry[]> {
    return this.#d.log.read(this.#d.directory.chat(name).id, options);
  }

  /** A chat's messages; marks it read unless `markRead` is false. */
  async read(name: string, options: { last?: number; markRead?: boolean }): Promise<MessageView[]> {
    const chat = this.#d.directory.chat(name);
    let entries = await this.#d.log.read(
      chat.id,
      options.last !== undefined ? { last: options.last } : {},
    );
    let views = await this.views(chat, entries);
    // Edits and reactions are entries but no messages: read further back for `last` messages.
    for (
      let want = options.last, take = want ?? 0;
      want !== undefined && views.length < want && entries.length === take && take < MAX_LAST;
    ) {
      take = Math.min(take * 2, MAX_LAST);
      entries = await this.#d.log.read(chat.id, { last: take });
      views = (await this.views(chat, entries)).slice(-want);
    }
    if (options.markRead !== false && entries.length > 0) {
      const clock = await this.#d.store.kv.get<number>(keys.chatClock(chat.id));
      await this.readMarks.read(
        chat.id,
        typeof clock.value === "number" ? clock.value : entries.at(-1)!.lamport,
      );
      if (chat.kind === "direct" && chat.peer && this.#outlets.readDirect) {
        const head = (await this.#d.log.heads(chat.id)).get(toHex(chat.peer.publicKey));
        // Awaited until the receipt is on the session, so what the person does next comes after it.
        if (head) await this.#outlets.readDirect(chat.peer.publicKey, head.seq);
      } else if (chat.kind === "group" && this.#outlets.readGroup) {
        const heads = await this.#d.log.heads(chat.id);
        await this.#outlets.readGroup(chat.id, new Map([...heads].map(([a, h]) => [a, h.seq])));
      }
    }
    return views;
  }

  async #unread(chat: ChatRef): Promise<number> {
    const seen = await this.readMarks.get(chat.id);
    // Edits, retractions and reactions change messages, and membership notes are none: no new ones to read.
    return await this.#d.log.countNewer(chat.id, seen, {
      // What the person wrote, from any of the person's devices, is read.
      except: (a) => bytesEqual(a, this.#d.me) || (this.#d.ownPerson?.(a) ?? false),
      limit: 10_000,
      skipTypes: NOT_UNREAD,
    });
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
      out.push({
        name: chat.name,
        id: chat.id,
        kind: chat.kind,
        unread: await this.#unread(chat),
        last: await this.#preview(chat),
      });
    }
    return out;
  }

  /**
   * The chat list's line for a chat: its newest message (read from the last few entries: the
   * newest may be a reaction or an edit, which shows as its message), else its newest membership
   * note. A group busy with membership changes is looked into deeper, up to PREVIEW_DEPTH.
   */
  async #preview(chat: ChatRef): Promise<MessageView | null> {
    let views: MessageView[] = [];
    for (const depth of [20, PREVIEW_DEPTH]) {
      const last = await this.#d.log.read(chat.id, { last: depth });
      views = last.length > 0 ? await this.views(chat, last) : [];
      const message = views.findLast((v) => !isGroupOp(v.type));
      if (message || last.length < depth) return message ?? views.at(-1) ?? null;
    }
    return views.at(-1) ?? null;
  }
}
