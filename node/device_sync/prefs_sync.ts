/**
 * Each chat's settings (muted, pinned, archived) and read state in step
 * between the person's own devices (issue 18 item 5, issue 13 item 4 "read
 * state"), feature devprefs1, over the sibling session (sibling_sync.ts: the
 * other side is already checked to be the person key or a device the person
 * certified). It works as contact_sync.ts does for contacts.
 *
 * Every setting the person changes here (node/prefs ChatPrefs.set) and every
 * read here (node/chats ReadMarks.read) becomes this device's record of that
 * chat, numbered by a local `seq` and kept in the store, so nothing is lost
 * on a restart; at start the records are brought in line with the settings
 * and marks in the store, should a crash have come between the two. Chat ids
 * are the person's, the same on every device (prefs_merge.ts). Each sibling
 * gets the records numbered above the highest it took (kept per sibling), in
 * `devsync.prefs` requests of at most MAX_PREFS_CHANGES: at session up (all
 * of them the first time) and at each change while it is up. What a sibling
 * sends is merged by prefs_merge.ts (settings: last writer wins per chat;
 * read mark: the highest), applied, and goes on to our other siblings like a
 * change made here. A sibling without devprefs1 is never sent any. Own mail
 * (mailbox/own_mail_records.ts) files the same records, numbered the same,
 * for a sibling that is not connected, and hands us theirs through `take`.
 */
import type { ChatPrefsView } from "../api/mod.ts";
import type { Clock } from "../clock/mod.ts";
import type { EventBus } from "../events.ts";
import type { ParamsOf, RpcSession } from "../protocol/mod.ts";
import { keys } from "../store/mod.ts";
import { toHex } from "../wire/mod.ts";
import { SiblingFeed } from "./sibling_feed.ts";
import { mergePrefs, type PrefsRecord, samePrefs, stampPrefs } from "./prefs_merge.ts";

/** Chat records per devsync.prefs request (the schema's cap, methods.ts). */
export const MAX_PREFS_CHANGES = 64;
/** Chats a sibling may give us records of, beyond those we have: a bound on the store. */
export const MAX_PREFS_RECORDS = 10_000;

/** The per-chat settings of this node (node/prefs ChatPrefs). */
export interface PrefsBook {
  get(id: string): ChatPrefsView;
  all(): [string, ChatPrefsView][];
  apply(id: string, prefs: ChatPrefsView): Promise<unknown>;
  onChange(listener: (id: string, prefs: ChatPrefsView) => void): () => void;
}

/** How far the person read each chat here (node/chats ReadMarks). */
export interface ReadState {
  get(chat: string): Promise<number>;
  all(): AsyncIterable<[string, number]>;
  raise(chat: string, mark: number): Promise<number | null>;
  onRead(listener: (chat: string, mark: number) => void): () => void;
}

export interface PrefsSyncDeps {
  readonly kv: Deno.Kv;
  readonly clock: Clock;
  /** Told of each chat a sibling changed ("chat-synced"), for the admin's list. */
  readonly bus: EventBus;
  readonly prefs: PrefsBook;
  readonly reads: ReadState;
  /** Told of each record kept (own mail files it for siblings not connected). */
  readonly kept?: () => void;
}

/** A record as this device keeps it: numbered here, and from which sibling it came. */
interface Kept extends PrefsRecord {
  readonly seq: number;
  /** The sibling it came from (key hex): not sent back there. */
  readonly from?: string;
}

type Change = ParamsOf<"devsync.prefs">["changes"][number];

const bools = ["muted", "pinned", "archived"] as const;
const nums = ["at", "read", "seq"] as const;

function isKept(v: unknown): v is Kept {
  const r = v as Record<string, unknown>;
  return typeof v === "object" && v !== null && typeof r.chat === "string" &&
    bools.every((k) => typeof r[k] === "boolean") &&
    nums.every((k) => typeof r[k] === "number" && Number.isSafeInteger(r[k]));
}

const NONE = { muted: false, pinned: false, archived: false };
const sameSettings = (a: ChatPrefsView, b: ChatPrefsView) =>
  a.muted === b.muted && a.pinned === b.pinned && a.archived === b.archived;

export class PrefsSync {
  readonly #d: PrefsSyncDeps;
  /** By chat id. */
  readonly #records = new Map<string, Kept>();
  #seq = 0;
  #ready: Promise<void> = Promise.resolve();
  /** The siblings with a session up that list devprefs1, and what each took. */
  readonly #feed: SiblingFeed<Change>;
  /** Changes, here or a sibling's, one at a time: each reads the record the last one left. */
  #queue: Promise<unknown> = Promise.resolve();
  readonly #unsubscribe: (() => void)[] = [];

  constructor(deps: PrefsSyncDeps) {
    this.#d = deps;
    this.#feed = new SiblingFeed(deps.kv, {
      ready: () => this.#ready,
      changesAfter: (sibling, after) => this.changesAfter(sibling, after),
      send: (rpc, changes) => rpc.request("devsync.prefs", { changes }),
      ackKey: (key) => keys.prefsAck(key),
    });
  }

  /** Loads the records, and starts recording the person's changes here. */
  start(): void {
    this.#ready = this.#serial(() => this.#load());
    this.#ready.catch(() => {});
    this.#unsubscribe.push(
      this.#d.prefs.onChange((id, p) => {
        this.#serial(() => this.#local(id, p, undefined)).catch(() => {});
      }),
      this.#d.reads.onRead((chat, mark) => {
        this.#serial(() => this.#local(chat, undefined, mark)).catch(() => {});
      }),
    );
  }

  close(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#feed.clear();
  }

  /** A sibling's session is up and it lists devprefs1: it gets what it has not taken. */
  attach(key: Uint8Array, rpc: RpcSession): void {
    this.#feed.attach(key, rpc);
  }

  /** A sibling's `devsync.prefs`: merged and applied in order. */
  async take(from: Uint8Array, changes: readonly Change[]): Promise<Record<string, never>> {
    await this.#ready;
    await this.#serial(async () => {
      for (const c of changes) await this.#take(toHex(from), c);
    });
    return {};
  }

  async #take(from: string, c: Change): Promise<void> {
    const local = this.#records.get(c.chat);
    if (!local && this.#records.size >= MAX_PREFS_RECORDS) return;
    const next = mergePrefs(local, c, this.#d.clock.now());
    if (!next) return;
    const settings = { muted: next.muted, pinned: next.pinned, archived: next.archived };
    if (!sameSettings(this.#d.prefs.get(next.chat), settings)) {
      await this.#d.prefs.apply(next.chat, settings);
    }
    const raised = await this.#d.reads.raise(next.chat, next.read);
    if (raised !== null || !sameSettings(settings, local ?? NONE)) {
      this.#d.bus.emit({ type: "chat-synced", chat: next.chat });
    }
    // Only what is theirs as it came is not sent back: a merge of both goes to them too.
    await this.#keep(next, samePrefs(next, c) ? from : undefined);
  }

  #serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(f);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #load(): Promise<void> {
    const { kv, prefs, reads } = this.#d;
    for await (const e of kv.list<unknown>({ prefix: keys.prefsRecords() })) {
      if (!isKept(e.value)) continue; // not ours to fail a node over: the settings are the truth
      this.#records.set(e.value.chat, e.value);
      this.#seq = Math.max(this.#seq, e.value.seq);
    }
    // Settings and marks the records do not say (set before this feature, or a crash came
    // between the two writes): recorded as set now.
    const ids = new Set([...prefs.all().map(([id]) => id), ...this.#records.keys()]);
    for (const id of ids) {
      const r = this.#records.get(id);
      if (!sameSettings(prefs.get(id), r ?? NONE)) await this.#local(id, prefs.get(id), undefined);
    }
    for await (const [chat, mark] of reads.all()) {
      if (mark > (this.#records.get(chat)?.read ?? 0)) await this.#local(chat, undefined, mark);
    }
  }

  /** The person changed `chat`'s settings (`p`) or read it (up to `mark`) here. */
  async #local(
    chat: string,
    p: ChatPrefsView | undefined,
    mark: number | undefined,
  ): Promise<void> {
    const prev = this.#records.get(chat);
    const settings = p ?? prev ?? NONE;
    await this.#keep({
      chat,
      muted: settings.muted,
      pinned: settings.pinned,
      archived: settings.archived,
      at: p ? stampPrefs(prev, this.#d.clock.now()) : prev?.at ?? 0,
      read: Math.max(prev?.read ?? 0, mark ?? 0),
    });
  }

  /** Keeps a record as our newest change, and hands it to the siblings up. */
  async #keep(r: PrefsRecord, from?: string): Promise<void> {
    const kept: Kept = {
      chat: r.chat,
      muted: r.muted,
      pinned: r.pinned,
      archived: r.archived,
      at: r.at,
      read: r.read,
      seq: ++this.#seq,
      ...(from ? { from } : {}),
    };
    this.#records.set(r.chat, kept);
    await this.#d.kv.set(keys.prefsRecord(r.chat), kept);
    this.#feed.pushAll();
    this.#d.kept?.();
  }

  /**
   * The records numbered above `after` for `sibling` (not those that came
   * from it), at most one request's worth, and the number they cover up to.
   */
  async changesAfter(sibling: Uint8Array, after: number): Promise<{
    changes: Change[];
    upTo: number;
  }> {
    await this.#ready;
    const k = toHex(sibling);
    const due: Kept[] = [...this.#records.values()].filter((r) => r.seq > after)
      .sort((a, b) => a.seq - b.seq).slice(0, MAX_PREFS_CHANGES * 4);
    if (due.length === 0) return { changes: [], upTo: after };
    const batch: Kept[] = due.filter((r) => r.from !== k).slice(0, MAX_PREFS_CHANGES);
    // Up to the last record given (or skipped as the sibling's own).
    const upTo = batch.length === MAX_PREFS_CHANGES ? batch.at(-1)!.seq : due.at(-1)!.seq;
    return { changes: batch.map(wire), upTo };
  }
}

const wire = (r: PrefsRecord): Change => ({
  chat: r.chat,
  muted: r.muted,
  pinned: r.pinned,
  archived: r.archived,
  at: r.at,
  read: r.read,
});
