/**
 * Keeps the search index (search_index.ts) current and answers searches:
 * fed by the bus's message events as entries arrive or are written, and
 * rebuilt from the log at every start (the index lives in memory only, so
 * that decrypted group text never lands on disk outside the store). A search
 * during the rebuild answers from what is indexed so far, and says so.
 */
import type { MessageView, SearchView } from "../api/mod.ts";
import type { ChatDirectory } from "../chats/mod.ts";
import type { Clock, TimerId } from "../clock/mod.ts";
import type { EventBus } from "../events.ts";
import type { ChatRef } from "../views/mod.ts";
import type { SearchDoc } from "./query.ts";
import { SearchIndex } from "./search_index.ts";

/** Bodies a message view shows in place of text that cannot be read: not indexed. */
const UNREADABLE = new Set(["(cannot decrypt)", "(written by someone not in the group)"]);
/** Entries a rebuild turns into views at once (a group's are decrypted a batch at a time). */
const REBUILD_BATCH = 1000;
/**
 * Messages told but not indexed yet, at most: each is indexed a moment after
 * its event (off the delivery path), and every search indexes what waits first.
 */
const MAX_WAITING = 1000;

export interface SearchServiceDeps {
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly directory: ChatDirectory;
  /** A chat's entries in display order, as messages (a group's decrypted), in batches. */
  messages(chat: ChatRef, batch: number): AsyncIterable<MessageView[]>;
  /** How many of a chat's entries have a Lamport clock above `lamport`. */
  countNewer(chat: string, lamport: number): Promise<number>;
}

/** A message view as an index document of chat `chatId`; null when it has no text to search. */
export function searchDoc(chatId: string, m: MessageView): SearchDoc | null {
  // Messages and replies, as they now read: an edit's newest text, nothing of a deleted one.
  if ((m.type !== "msg" && m.type !== "reply") || m.deleted || UNREADABLE.has(m.body)) return null;
  return {
    id: m.hash,
    chat: chatId,
    author: m.author,
    authorFingerprint: m.authorFingerprint,
    mine: m.mine,
    seq: m.seq,
    lamport: m.lamport,
    ts: m.ts,
    text: m.body,
  };
}

export class SearchService {
  readonly #d: SearchServiceDeps;
  readonly index: SearchIndex;
  #off: (() => void) | undefined;
  #ready = false;
  #closed = false;
  #rebuilt: Promise<void> | undefined;
  /** Messages (with their chat ids) told but not indexed yet; see MAX_WAITING. */
  #waiting: Array<{ chat: string; message: MessageView }> = [];
  #timer: TimerId | undefined;

  constructor(deps: SearchServiceDeps, index = new SearchIndex()) {
    this.#d = deps;
    this.index = index;
  }

  /** Whether the rebuild after start has finished. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Follows new messages and rebuilds the index from the log; resolves when rebuilt. */
  start(): Promise<void> {
    if (this.#rebuilt) return this.#rebuilt;
    this.#off = this.#d.bus.subscribe((e) => {
      if (e.type !== "message") return;
      const chat = this.#chatNamed(e.message.chat);
      if (!chat) return;
      this.#waiting.push({ chat: chat.id, message: e.message });
      if (this.#waiting.length >= MAX_WAITING) this.#indexWaiting();
      else if (this.#timer === undefined) {
        this.#timer = this.#d.clock.setTimeout(() => this.#indexWaiting(), 0);
        this.#d.clock.unref(this.#timer);
      }
    });
    return this.#rebuilt = this.#rebuild().catch(() => {/* the store closed under it */});
  }

  close(): void {
    this.#closed = true;
    this.#off?.();
    this.#d.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Indexes the messages told since the last time, in the order told. */
  #indexWaiting(): void {
    this.#d.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const { chat, message: m } of waiting) {
      // An edit or a deletion for everyone shows the message again: what it said goes.
      if (m.edited || m.deleted) this.index.remove(m.hash);
      const doc = searchDoc(chat, m);
      if (doc) this.index.add(doc);
    }
  }

  async #rebuild(): Promise<void> {
    const started = this.#d.clock.now();
    for (const chat of this.#d.directory.all()) {
      for await (const views of this.#d.messages(chat, REBUILD_BATCH)) {
        if (this.#closed) return;
        for (const m of views) {
          const doc = searchDoc(chat.id, m);
          if (doc) this.index.add(doc);
        }
      }
    }
    this.#indexWaiting();
    this.#ready = true;
    const ms = this.#d.clock.now() - started;
    this.#d.bus.emit({ type: "search-index", state: "ready", indexed: this.index.size, ms });
  }

  #chatNamed(name: string): ChatRef | undefined {
    try {
      return this.#d.directory.chat(name);
    } catch {
      return undefined;
    }
  }

  /**
   * Searches every chat, or the one named `chat`.
   * @throws {RojError} not_found for an unknown chat name.
   */
  async search(
    p: { query: string; chat?: string | undefined; limit?: number | undefined },
  ): Promise<SearchView> {
    const only = p.chat === undefined ? undefined : this.#d.directory.chat(p.chat);
    this.#indexWaiting();
    const { hits, total, ignored } = this.index.search({
      text: p.query,
      ...(only ? { chat: only.id } : {}),
      ...(p.limit !== undefined ? { limit: p.limit } : {}),
    });
    const out = [];
    for (const h of hits) {
      const chat = only ?? this.#d.directory.byId(h.doc.chat);
      if (!chat) continue; // a chat no longer shown here
      const newer = await this.#d.countNewer(chat.id, h.doc.lamport);
      out.push({
        chat: chat.name,
        chatKind: chat.kind,
        hash: h.doc.id,
        seq: h.doc.seq,
        author: h.doc.author,
        authorFingerprint: h.doc.authorFingerprint,
        mine: h.doc.mine,
        ts: h.doc.ts,
        snippet: h.snippet,
        // The message, the ones it ties with, and a few before it for context.
        last: Math.min(100_000, newer + 10),
      });
    }
    return {
      query: p.query,
      hits: out,
      total,
      ignored,
      indexed: this.index.size,
      ready: this.#ready,
    };
  }
}
