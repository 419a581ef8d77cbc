/// <reference lib="dom" />
/**
 * The chat list, the messenger's left pane: each chat with its identicon (and
 * an online dot for a contact with a session up), its name, the last message
 * and its time, and the unread count; kept current over SSE. Anchors are not
 * chats: they are listed in Contacts and the Hive, not here.
 */
import { useEffect, useState } from "preact/hooks";
import type { ChatView, PeerView } from "../node/api/mod.ts";
import { arrangeChats } from "../node/api/chat_order.ts";
import { callApi } from "./_api.ts";
import { Avatar } from "./_avatar.tsx";
import { Emojied } from "./_emoji.tsx";
import { type LiveState, onEvents } from "./_events.ts";
import { LiveNote } from "./_live.tsx";
import { clip, isoTime, listTime } from "./_format.ts";

/** What the list needs of a contact. */
export interface ListPeer {
  name: string;
  fingerprint: string;
  anchor: boolean;
  online: boolean;
}

export interface ChatListProps {
  chats: ChatView[];
  peers: ListPeer[];
  /** Show the archived chats (only them and the rest, pinned first). @default false */
  archived?: boolean;
  /** The chat open beside the list: marked, and the list says nothing of being live. */
  current?: string;
}

/** The list's view of the node's peers. */
export function listPeers(peers: readonly PeerView[]): ListPeer[] {
  return peers.map((p) => ({
    name: p.name,
    fingerprint: p.fingerprint,
    anchor: p.kind === "anchor",
    online: p.state === "connected",
  }));
}

/** Newest activity first; chats without messages after, by name. */
export function sortChats(chats: ChatView[]): ChatView[] {
  return [...chats].sort((a, b) =>
    (b.last?.ts ?? 0) - (a.last?.ts ?? 0) || a.name.localeCompare(b.name)
  );
}

/** The chats a person chats in: every chat but the direct ones with an anchor. */
export function messengerChats(chats: readonly ChatView[], peers: readonly ListPeer[]): ChatView[] {
  const anchors = new Set(peers.filter((p) => p.anchor).map((p) => p.name));
  return chats.filter((c) => !(c.kind === "direct" && anchors.has(c.name)));
}

export function ChatList(props: ChatListProps) {
  const arrange = (c: ChatView[], p: ListPeer[]) =>
    arrangeChats(sortChats(messengerChats(c, p)), { archived: !!props.archived });
  const [chats, setChats] = useState(() => arrange(props.chats, props.peers));
  const [peers, setPeers] = useState(props.peers);
  const [live, setLive] = useState<LiveState | null>(null);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        Promise.all([callApi<ChatView[]>("chats"), callApi<PeerView[]>("peers")])
          .then(([c, p]) => {
            const lp = listPeers(p);
            setPeers(lp);
            setChats(arrange(c, lp));
          })
          .catch(() => {});
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

  const byName = new Map(peers.map((p) => [p.name, p]));
  return (
    <>
      {props.current === undefined && <LiveNote state={live} />}
      {chats.length === 0
        ? <p class="muted empty">No chats yet: add a contact first.</p>
        : (
          <ul class="chats" aria-live="polite" aria-relevant="all">
            {chats.map((c) => {
              const peer = c.kind === "direct" ? byName.get(c.name) : undefined;
              const current = c.name === props.current;
              return (
                <li key={c.id} data-chat={c.name} class={current ? "current" : undefined}>
                  <a
                    href={`/chats/${encodeURIComponent(c.name)}`}
                    aria-current={current ? "page" : undefined}
                  >
                    <Avatar seed={peer?.fingerprint ?? c.id} online={!!peer?.online} />
                    <span class="lines">
                      <span class="line">
                        <span class="name">
                          {c.name === "notes" ? "Notes to yourself" : c.name}
                          {peer?.online && <span class="sr-only">, online</span>}
                          {c.kind === "group" && <span class="sr-only">, group</span>}
                        </span>
                        {c.last && (
                          <time dateTime={isoTime(c.last.ts)} class="when">
                            {listTime(c.last.ts)}
                          </time>
                        )}
                      </span>
                      <span class="line">
                        <span class="last">
                          {c.last
                            ? (
                              <Emojied
                                text={`${c.last.mine ? "You: " : ""}${
                                  // A deleted message has no text left to show: say what it was.
                                  c.last.deleted ? "message deleted" : clip(c.last.body, 120)}`}
                              />
                            )
                            : "no messages yet"}
                        </span>
                        <span class="marks">
                          {c.prefs?.pinned && (
                            <span data-pinned class="emoji" title="pinned">📌</span>
                          )}
                          {c.prefs?.muted && <span data-muted class="emoji" title="muted">🔕</span>}
                          {c.unread > 0 && (
                            <span class="badge" data-unread={c.unread}>
                              {c.unread}
                              <span class="sr-only">unread</span>
                            </span>
                          )}
                        </span>
                      </span>
                    </span>
                  </a>
                  {props.current === undefined && <ChatMenu chat={c} />}
                </li>
              );
            })}
          </ul>
        )}
    </>
  );
}

/** A chat's "⋯" menu: its settings, in a details element (it opens without JavaScript too). */
export function ChatMenu({ chat: c }: { chat: ChatView }) {
  if (!c.prefs) return null;
  return (
    <details class="menu">
      <summary aria-label={`Settings for ${c.name}`}>⋯</summary>
      <div class="menu-body">
        <ChatSettings chat={c} />
      </div>
    </details>
  );
}

/** Mute, pin, archive (and back): plain forms, so they work without JavaScript too. */
export function ChatSettings({ chat: c }: { chat: ChatView }) {
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
      {p.muted ? button("unmute", "Unmute") : button("mute", "Mute")}
      {p.pinned ? button("unpin", "Unpin") : button("pin", "Pin")}
      {p.archived ? button("unarchive", "Unarchive") : button("archive", "Archive")}
    </form>
  );
}
