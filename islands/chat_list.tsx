/// <reference lib="dom" />
/** The list of chats with unread counts and the last message; kept current over SSE. */
import { useEffect, useState } from "preact/hooks";
import type { ChatView } from "../node/api/mod.ts";
import { arrangeChats } from "../node/api/chat_order.ts";
import { callApi } from "./_api.ts";
import { type LiveState, onEvents } from "./_events.ts";
import { LiveNote } from "./_live.tsx";
import { clip, formatTime, isoTime } from "./_format.ts";

export interface ChatListProps {
  chats: ChatView[];
  /** Show the archived chats (only them and the rest, pinned first). @default false */
  archived?: boolean;
}

/** Newest activity first; chats without messages after, by name. */
export function sortChats(chats: ChatView[]): ChatView[] {
  return [...chats].sort((a, b) =>
    (b.last?.ts ?? 0) - (a.last?.ts ?? 0) || a.name.localeCompare(b.name)
  );
}

export function ChatList(props: ChatListProps) {
  const arrange = (c: ChatView[]) => arrangeChats(sortChats(c), { archived: !!props.archived });
  const [chats, setChats] = useState(() => arrange(props.chats));
  const [live, setLive] = useState<LiveState | null>(null);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        callApi<ChatView[]>("chats").then((c) => setChats(arrange(c))).catch(() => {});
      }, 150);
    };
    const off = onEvents({
      event(e) {
        if (e.type !== "log") refresh();
      },
      resync: refresh,
      state: setLive,
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, []);

  return (
    <>
      <LiveNote state={live} />
      {chats.length === 0
        ? <p class="muted">No chats yet: add a contact first.</p>
        : (
          <ul class="chats" aria-live="polite" aria-relevant="all">
            {chats.map((c) => (
              <li key={c.id} data-chat={c.name}>
                <a href={`/chats/${encodeURIComponent(c.name)}`}>
                  <span class="name">
                    {c.name === "notes" ? "notes (to yourself)" : c.name}
                    {c.unread > 0 && (
                      <>
                        {" "}
                        <span class="badge" data-unread={c.unread}>
                          {c.unread}
                          <span class="sr-only">unread</span>
                        </span>
                      </>
                    )}
                  </span>
                  {c.last
                    ? (
                      <time dateTime={isoTime(c.last.ts)} class="muted">
                        {formatTime(c.last.ts)}
                      </time>
                    )
                    : <span />}
                  <span class="last">
                    {c.last
                      ? `${c.last.mine ? "you: " : ""}${clip(c.last.body, 120)}`
                      : "no messages yet"}
                  </span>
                </a>
                <ChatSettings chat={c} />
              </li>
            ))}
          </ul>
        )}
    </>
  );
}

/** Mute, pin, archive (and back): plain forms, so they work without JavaScript too. */
function ChatSettings({ chat: c }: { chat: ChatView }) {
  const p = c.prefs;
  if (!p) return null;
  const button = (set: string, label: string) => (
    <button type="submit" name="set" value={set} class="link" aria-label={`${label} ${c.name}`}>
      {label}
    </button>
  );
  return (
    <form
      class="chat-settings"
      method="post"
      action={`/chats/${encodeURIComponent(c.name)}/settings`}
    >
      {p.muted && <span class="muted" data-muted>muted ·</span>}
      {p.pinned && <span class="muted" data-pinned>pinned ·</span>}
      {p.muted ? button("unmute", "Unmute") : button("mute", "Mute")}
      {p.pinned ? button("unpin", "Unpin") : button("pin", "Pin")}
      {p.archived ? button("unarchive", "Unarchive") : button("archive", "Archive")}
    </form>
  );
}
