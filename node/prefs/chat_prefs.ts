/**
 * Per-chat settings on this node (muted, pinned, archived) and the admin's
 * notification setting, kept in the store and in memory. Stored by chat id,
 * so a renamed contact keeps its chat's settings. Only this node's: they are
 * not synced (a person's other devices are not wired yet).
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

  /** Changes the fields given; resolves once stored. */
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
