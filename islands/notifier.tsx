/// <reference lib="dom" />
/**
 * Browser notifications and the unread count in the tab title, on every
 * signed-in page. Permission is asked for only from the Settings page's
 * button (`ask`), never on load; elsewhere an unasked browser shows a link
 * there. A notification shows who wrote and the text, or only "New message"
 * (the setting `notifyPreview`); muted chats raise none and are not counted,
 * and neither does the chat open in a visible tab.
 */
import { useEffect, useState } from "preact/hooks";
import type { ChatView, MessageView, SettingsView } from "../node/api/mod.ts";
import { callApi } from "./_api.ts";
import { onEvents } from "./_events.ts";
import { clip } from "./_format.ts";

export interface NotifierProps {
  /** The Settings page's copy: explains and asks. The header's only watches. */
  ask: boolean;
}

type Permission = NotificationPermission | "unsupported";

const permission = (): Permission =>
  typeof Notification === "undefined" ? "unsupported" : Notification.permission;

/** The tab title with `unread` in front: "(3) Chats · Roj · alice". */
export function titleWithUnread(title: string, unread: number): string {
  const base = title.replace(/^\(\d+\) /, "");
  return unread > 0 ? `(${unread}) ${base}` : base;
}

/** Unread messages in chats that are not muted. */
export function unreadCount(chats: readonly ChatView[]): number {
  return chats.reduce((n, c) => n + (c.prefs?.muted ? 0 : c.unread), 0);
}

/** What a notification for `m` says, as the setting wants it. */
export function notificationText(
  m: MessageView,
  kind: ChatView["kind"] | undefined,
  preview: SettingsView["notifyPreview"],
): { title: string; body: string } {
  if (preview === "hidden") return { title: "Roj", body: "New message" };
  return {
    title: kind === "group" ? `${m.author} in ${m.chat}` : m.author,
    body: clip(m.body, 200),
  };
}

/** Whether the page shows chat `chat`'s conversation to someone looking at it. */
function showing(chat: string): boolean {
  return document.visibilityState === "visible" &&
    decodeURIComponent(location.pathname) === `/chats/${chat}`;
}

export function Notifier(props: NotifierProps) {
  // Unknown until hydrated: the server cannot know the browser's permission.
  const [perm, setPerm] = useState<Permission | null>(null);

  useEffect(() => {
    setPerm(permission());
    if (props.ask) return; // the header's copy does the watching
    let chats: ChatView[] = [];
    let preview: SettingsView["notifyPreview"] = "full";
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Nothing is decided before the first answer: a muted chat must not slip through.
    let loaded!: () => void;
    const first = new Promise<void>((resolve) => loaded = resolve);
    const title = () => document.title = titleWithUnread(document.title, unreadCount(chats));
    const load = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        Promise.all([callApi<ChatView[]>("chats"), callApi<SettingsView>("settings")])
          .then(([c, s]) => {
            chats = c;
            preview = s.notifyPreview;
            title();
            loaded();
          }).catch(() => {});
      }, 100);
    };
    const notify = (m: MessageView) => {
      const chat = chats.find((c) => c.name === m.chat);
      if (chat?.prefs?.muted || permission() !== "granted") return;
      const { title, body } = notificationText(m, chat?.kind, preview);
      try {
        const n = new Notification(title, { body, tag: `roj-${m.chat}` });
        n.onclick = () => {
          globalThis.focus();
          location.href = `/chats/${encodeURIComponent(m.chat)}`;
        };
      } catch { /* some browsers allow notifications only from a service worker */ }
    };
    load();
    const off = onEvents({
      event(e) {
        if (e.type !== "message") return;
        load(); // the unread counts moved
        const m = e.message;
        if (!m.mine && !showing(m.chat)) first.then(() => notify(m));
      },
      resync: load,
    });
    // Back to the tab: a chat read meanwhile (here or elsewhere) counts no more.
    document.addEventListener("visibilitychange", load);
    // Ctrl+K (⌘K) jumps to the header's search box, as in other messengers.
    const key = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
        const box = document.getElementById("search-q") as HTMLInputElement | null;
        if (!box) return;
        e.preventDefault();
        box.focus();
        box.select();
      }
    };
    document.addEventListener("keydown", key);
    return () => {
      off();
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", load);
      document.removeEventListener("keydown", key);
    };
  }, []);

  if (!props.ask) {
    return perm === "default"
      ? <a class="notify-link" href="/settings#notifications">Turn on notifications</a>
      : null;
  }
  return (
    <div id="notifications">
      <p>
        With notifications on, this browser tells you when a message arrives while the admin is in a
        background tab or on another page. The browser asks you once; you can turn them off in its
        site settings at any time.
      </p>
      {perm === null && <p class="muted">Notifications need JavaScript.</p>}
      {perm === "unsupported" && <p class="muted">This browser has no notifications.</p>}
      {perm === "granted" && <p data-notifications="on">Notifications are on.</p>}
      {perm === "denied" && (
        <p data-notifications="blocked">
          Notifications are blocked for this page in the browser's site settings.
        </p>
      )}
      {perm === "default" && (
        <button
          type="button"
          onClick={() => Notification.requestPermission().then(setPerm).catch(() => {})}
        >
          Turn on notifications
        </button>
      )}
    </div>
  );
}
