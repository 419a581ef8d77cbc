/**
 * Per-chat settings on this node (muted, pinned, archived) and the admin's
 * notification setting, kept in the store and in memory. Stored by chat id,
 * so a renamed contact keeps its chat's settings. A chat's settings are the
 * same on each of the person's devices: every change made here goes to the
 * listeners (device_sync/prefs_sync.ts, feature devprefs1, sends it to the
 * person's other devices), and what they send is `apply`d, last writer wins
 * per chat. The notification setting stays this node's own.
 */
import type { ChatPrefsView, SettingsView } from "../api/mod.ts";
import { keys, type Store } from "../store/mod.ts";

const NONE: ChatPrefsView = { muted: false, pinned: false, archived: false };
const DEFAULT_SETTINGS: SettingsView = { notifyPreview: "full" };

function isPrefs(v: unknown): v is ChatPrefsView {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.muted === "boolean" && typeof o.pinned === "boolean" &&
    typeof o.archived === "boolean";
}

export class ChatPrefs {
  readonly #store: Store;
  readonly #byChat = new Map<string, ChatPrefsView>();
  readonly #listeners = new Set<(id: string, prefs: ChatPrefsView) => void>();
  #settings: SettingsView = DEFAULT_SETTINGS;

  private constructor(store: Store) {
    this.#store = store;
  }

  /** Loads every chat's settings; a damaged record reads as none set. */
  static async open(store: Store): Promise<ChatPrefs> {
    const p = new ChatPrefs(store);
    for await (const res of store.kv.list<unknown>({ prefix: keys.chatPrefsAll() })) {
      const id = res.key[1];
      if (typeof id === "string" && isPrefs(res.value)) p.#byChat.set(id, res.value);
    }
    const s = (await store.kv.get<unknown>(keys.settings())).value as Partial<SettingsView> | null;
    if (s && (s.notifyPreview === "full" || s.notifyPreview === "hidden")) {
      p.#settings = { notifyPreview: s.notifyPreview };
    }
    return p;
  }

  /** Chat `id`'s settings (all off when never set). */
  get(id: string): ChatPrefsView {
    return this.#byChat.get(id) ?? NONE;
  }

  /** Every chat with a setting on. */
  all(): [id: string, prefs: ChatPrefsView][] {
    return [...this.#byChat];
  }

  /** Changes the fields given, as the person asked here; resolves once stored. */
  async set(
    id: string,
    change: { readonly [K in keyof ChatPrefsView]?: boolean | undefined },
  ): Promise<ChatPrefsView> {
    const old = this.get(id);
    const next: ChatPrefsView = {
      muted: change.muted ?? old.muted,
      pinned: change.pinned ?? old.pinned,
      archived: change.archived ?? old.archived,
    };
    await this.apply(id, next);
    for (const l of this.#listeners) {
      try {
        l(id, next);
      } catch { /* a listener's failure is its own */ }
    }
    return next;
  }

  /** Calls `listener` for each change the person makes here (not those `apply`d). */
  onChange(listener: (id: string, prefs: ChatPrefsView) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Makes chat `id`'s settings `next` (from another device of the person); resolves once stored. */
  async apply(id: string, next: ChatPrefsView): Promise<ChatPrefsView> {
    next = { muted: next.muted, pinned: next.pinned, archived: next.archived };
    if (!next.muted && !next.pinned && !next.archived) {
      await this.#store.kv.delete(keys.chatPrefs(id));
      this.#byChat.delete(id);
    } else {
      await this.#store.kv.set(keys.chatPrefs(id), next);
      this.#byChat.set(id, next);
    }
    return next;
  }

  get settings(): SettingsView {
    return this.#settings;
  }

  async setSettings(
    change: { notifyPreview?: SettingsView["notifyPreview"] | undefined },
  ): Promise<SettingsView> {
    const next: SettingsView = {
      notifyPreview: change.notifyPreview ?? this.#settings.notifyPreview,
    };
    await this.#store.kv.set(keys.settings(), next);
    return this.#settings = next;
  }
}
