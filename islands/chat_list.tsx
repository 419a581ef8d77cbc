/// <reference lib="dom" />
/** The list of chats with unread counts and the last message; kept current over SSE. */
import { useEffect, useState } from "preact/hooks";
import type { ChatView } from "../node/api/mod.ts";
import { callApi } from "./_api.ts";
import { type LiveState, onEvents } from "./_events.ts";
import { LiveNote } from "./_live.tsx";
import { clip, formatTime, isoTime } from "./_format.ts";

export interface ChatListProps {
  chats: ChatView[];
}

/** Newest activity first; chats without messages after, by name. */
export function sortChats(chats: ChatView[]): ChatView[] {
  return [...chats].sort((a, b) =>
    (b.last?.ts ?? 0) - (a.last?.ts ?? 0) || a.name.localeCompare(b.name)
  );
}

export function ChatList(props: ChatListProps) {
  const [chats, setChats] = useState(() => sortChats(props.chats));
  const [live, setLive] = useState<LiveState | null>(null);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        callApi<ChatView[]>("chats").then((c) => setChats(sortChats(c))).catch(() => {});
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
              </li>
            ))}
          </ul>
        )}
    </>
  );
}
