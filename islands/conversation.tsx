/// <reference lib="dom" />
/**
 * One conversation, the messenger's right pane: messages under day
 * separators, in bubbles grouped by author and minute, with the delivery
 * state of your own; the composer below them. The message list scrolls on
 * its own and is laid out from the bottom (column-reverse), so the page opens
 * at the newest message even without JavaScript, and stays there as messages
 * arrive unless the person scrolled up ("Jump to latest" then). Rendered on
 * the server; in the browser new messages arrive over server-sent events and
 * Enter sends without a reload. Without JavaScript the form still posts.
 */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { MessageView } from "../node/api/mod.ts";
import { callApi } from "./_api.ts";
import { type LiveState, onEvents } from "./_events.ts";
import { LiveNote } from "./_live.tsx";
import { Avatar } from "./_avatar.tsx";
import { clockTime, formatTime, isoTime } from "./_format.ts";
import { MessageActions, MessageBody, useTyping } from "./message_parts.tsx";
import { fileIdOf, useChatFiles } from "./_chat_files.ts";
import { isNote, placeMessages } from "./message_groups.ts";
import { useConversationKeys } from "./_keys.ts";

export interface ConversationProps {
  chat: string;
  kind: "notes" | "direct";
  messages: MessageView[];
  /** The longest message accepted, in characters. */
  maxText: number;
  /** How many messages the page loaded (newest). */
  last: number;
  /** A group: bubbles name their author. @default false */
  group?: boolean;
  /** Where older messages are, when the page did not load them all. */
  olderHref?: string;
  /** What was typed, when the server refused it. */
  draft?: string;
  error?: string;
  /** Out of the group (removed, or left): why, said by the page; no composer. */
  closed?: string;
  /** Shown large above "No messages yet", as messengers open an empty chat: who it is with. */
  intro?: ChatIntro;
}

/** The head of an empty chat: a large picture, the name, a line under it and maybe a link. */
export interface ChatIntro {
  seed: string;
  title: string;
  line: string;
  link?: { href: string; text: string };
}

const keyOf = (m: MessageView) => `${m.authorFingerprint}/${m.seq}`;

/** Adds or replaces `incoming` messages, keeping display order (by Lamport clock, ties as they came). */
export function mergeMessages(list: MessageView[], incoming: MessageView[]): MessageView[] {
  const byKey = new Map(list.map((m) => [keyOf(m), m]));
  let appended = false;
  for (const m of incoming) {
    const old = byKey.get(keyOf(m));
    // A state already seen is never taken back by an older copy (stored < at-anchor < delivered < read).
    byKey.set(keyOf(m), old && rank(old) > rank(m) ? { ...m, state: old.state } : m);
    if (!old) appended = true;
  }
  const out = [...byKey.values()];
  return appended ? out.sort((a, b) => a.lamport - b.lamport) : out;
}

const RANK: Record<MessageView["state"], number> = {
  received: 0,
  stored: 1,
  "at-anchor": 2,
  delivered: 3,
  read: 4,
};
const rank = (m: MessageView) => RANK[m.state];

/** Own messages up to `seq` raised to `state`, where that is further along. */
function raise(list: MessageView[], seq: number, state: MessageView["state"]): MessageView[] {
  return list.map((m) =>
    m.mine && m.seq <= seq && m.state !== "received" && RANK[state] > rank(m) ? { ...m, state } : m
  );
}

function stateLabel(m: MessageView): { text: string; title: string } | null {
  if (!m.mine || m.state === "received") return null;
  if (m.state === "read") {
    return { text: "✓✓ read", title: "Read: they have read it (their read receipt says so)" };
  }
  if (m.state === "delivered") {
    return { text: "✓ delivered", title: "Delivered: their node has it" };
  }
  if (m.state === "at-anchor") {
    return {
      text: "→ at anchor",
      title: "At an anchor: one you both use, or a friend of both, holds it for them",
    };
  }
  return { text: "· stored", title: "Stored here, not yet delivered" };
}

/** How near the bottom, in pixels, still counts as reading the newest messages. */
const PINNED_PX = 48;

export function Conversation(props: ConversationProps) {
  const [messages, setMessages] = useState(props.messages);
  const [draft, setDraft] = useState(props.draft ?? "");
  const [error, setError] = useState(props.error ?? "");
  const [sending, setSending] = useState(false);
  const [live, setLive] = useState<LiveState | null>(null);
  // Whether the newest message is in view; kept there as messages arrive while it is.
  const [pinned, setPinned] = useState(true);
  const [unseen, setUnseen] = useState(0);
  const pinnedRef = useRef(true);
  const scrollerRef = useRef<HTMLDivElement>(null);
  const innerRef = useRef<HTMLDivElement>(null);
  const boxRef = useRef<HTMLTextAreaElement>(null);
  const chat = props.chat;
  const typing = useTyping(chat);
  const showView = (v: MessageView) => setMessages((list) => mergeMessages(list, [v]));

  /** Pixels of messages below the scroller's bottom edge (0 at the newest). */
  const below = () => {
    const s = scrollerRef.current, i = innerRef.current;
    if (!s || !i) return 0;
    return Math.max(0, i.getBoundingClientRect().bottom - s.getBoundingClientRect().bottom);
  };
  const toLatest = () => {
    scrollerRef.current?.scrollBy({ top: below() + PINNED_PX });
    pinnedRef.current = true;
    setPinned(true);
    setUnseen(0);
  };
  const onScroll = () => {
    const at = below() <= PINNED_PX;
    pinnedRef.current = at;
    setPinned(at);
    if (at) setUnseen(0);
  };

  useEffect(() => {
    const resync = () => {
      callApi<MessageView[]>("read", { chat, last: props.last })
        .then((fresh) => setMessages((list) => mergeMessages(list, fresh)))
        .catch(() => {});
    };
    return onEvents({
      event(e) {
        if (e.type === "message" && e.message.chat === chat) {
          setMessages((list) => mergeMessages(list, [e.message]));
          if (!pinnedRef.current && !e.message.mine) setUnseen((n) => n + 1);
          if (!e.message.mine && document.visibilityState === "visible") {
            // Seen while open: mark the chat read.
            callApi("read", { chat, last: 1 }).catch(() => {});
          }
        } else if (e.type === "read" && e.chat === chat) {
          setMessages((list) => raise(list, e.seq, "read"));
        } else if (e.type === "typing" && e.chat === chat) {
          typing.seen(e.who);
        } else if (e.type === "delivered" && e.chat === chat) {
          setMessages((list) => raise(list, e.seq, "delivered"));
        } else if (e.type === "direct-mail" && e.op === "deposited" && e.chat === chat) {
          setMessages((list) => raise(list, e.seq, "at-anchor"));
        }
      },
      resync,
      state: setLive,
    });
  }, [chat]);

  // New messages, a grown reaction, the typing line: stay at the newest if the person was there.
  useLayoutEffect(() => {
    if (pinnedRef.current) scrollerRef.current?.scrollBy({ top: below() + PINNED_PX });
  }, [messages, typing.who]);
  // The composer growing or the window (a phone's keyboard) shrinking keeps the newest in view.
  useEffect(() => {
    onScroll(); // opened at a message further up (a search hit's #m-… link): not pinned
    const s = scrollerRef.current;
    if (!s || typeof ResizeObserver === "undefined") return;
    const watch = new ResizeObserver(() => {
      if (pinnedRef.current) s.scrollBy({ top: below() + PINNED_PX });
    });
    watch.observe(s);
    return () => watch.disconnect();
  }, []);

  useConversationKeys({ box: boxRef, messages });
  const files = useChatFiles(chat, messages);

  const send = async () => {
    const text = draft;
    if (text.trim() === "") {
      setError("Type a message first.");
      return;
    }
    if (text.length > props.maxText) {
      setError(`A message has at most ${props.maxText} characters (this one has ${text.length}).`);
      return;
    }
    setSending(true);
    setError("");
    // The box empties at once, as a messenger's does (the message may be delivered, and shown,
    // before this request returns); a refusal puts the text back.
    setDraft("");
    try {
      const sent = await callApi<MessageView>(props.kind === "notes" ? "note" : "send", {
        ...(props.kind === "notes" ? {} : { chat }),
        text,
      });
      // What you just sent is shown, however far up you had scrolled.
      pinnedRef.current = true;
      setPinned(true);
      setUnseen(0);
      setMessages((list) => mergeMessages(list, [sent]));
    } catch (err) {
      setDraft((d) => (d === "" ? text : d));
      setError((err as Error).message);
    } finally {
      setSending(false);
    }
  };

  const placed = placeMessages(messages);
  return (
    <div class="conversation">
      <div class="scroll-area">
        <div class="scroller" ref={scrollerRef} onScroll={onScroll}>
          <div class="scroll-inner" ref={innerRef}>
            {props.olderHref && (
              <p class="older">
                <a href={props.olderHref}>Show older messages</a>
              </p>
            )}
            {messages.length === 0 && (
              <div class="empty">
                {props.intro && (
                  <div class="chat-intro">
                    <Avatar seed={props.intro.seed} size="large" />
                    <h3>{props.intro.title}</h3>
                    <p class="muted">{props.intro.line}</p>
                    {props.intro.link && (
                      <p>
                        <a href={props.intro.link.href}>{props.intro.link.text}</a>
                      </p>
                    )}
                  </div>
                )}
                <p class="muted">No messages yet. Say hello.</p>
              </div>
            )}
            <div
              role="log"
              aria-live="polite"
              aria-relevant="additions"
              aria-label={`Messages in ${chat}`}
            >
              <ol class={props.group ? "messages in-group" : "messages"}>
                {placed.map(({ m, day, first, last }) => {
                  const state = stateLabel(m);
                  const note = isNote(m);
                  const cls = [
                    "msg",
                    note ? "note" : m.mine && "mine",
                    first && "first",
                    last && "last",
                  ].filter(Boolean).join(" ");
                  return [
                    day && (
                      <li key={`day-${m.ts}`} class="day" aria-hidden="true">
                        <span>{day}</span>
                      </li>
                    ),
                    <li
                      key={keyOf(m)}
                      id={`m-${m.hash.slice(0, 16)}`}
                      class={cls}
                      data-seq={m.seq}
                      data-state={m.state}
                      data-id={m.id}
                    >
                      {first && props.group && !m.mine && !note && <p class="author">{m.author}</p>}
                      {/* In a group, who wrote a run is also their picture, beside its last bubble. */}
                      {last && props.group && !m.mine && !note && (
                        <Avatar seed={m.authorFingerprint} size="small" />
                      )}
                      <span class="sr-only">
                        {m.mine ? "you" : m.author}, {formatTime(m.ts)}:
                      </span>
                      <MessageBody
                        m={m}
                        file={m.type === "file" ? files.get(fileIdOf(m)) : undefined}
                      />
                      <div class="meta">
                        <MessageActions m={m} chat={chat} onView={showView} onError={setError} />
                        {m.device && (
                          <span class="device muted" data-device={m.device}>on {m.device}</span>
                        )}
                        {last && <time dateTime={isoTime(m.ts)}>{clockTime(m.ts)}</time>}
                        {state && !note && (
                          <span class={`state ${m.state}`} title={state.title}>
                            {state.text}
                          </span>
                        )}
                      </div>
                    </li>,
                  ];
                })}
              </ol>
            </div>
          </div>
        </div>
        {!pinned && (
          <button type="button" class="jump" onClick={toLatest} data-jump>
            ↓ Jump to latest{unseen > 0 ? ` (${unseen} new)` : ""}
          </button>
        )}
      </div>
      <p class="typing muted" aria-live="polite" data-typing={typing.who ?? undefined}>
        {typing.who ? `${typing.who} is typing…` : ""}
      </p>
      <form
        class="composer"
        hidden={props.closed !== undefined}
        method="post"
        action={`/chats/${encodeURIComponent(chat)}/send`}
        onSubmit={(e) => {
          e.preventDefault();
          if (!sending) send();
        }}
      >
        <label for="text" class="sr-only">Message</label>
        <div class="compose-row">
          <textarea
            id="text"
            name="text"
            ref={boxRef}
            rows={1}
            maxLength={props.maxText}
            required
            placeholder={props.kind === "notes" ? "Note to yourself" : `Message ${chat}`}
            value={draft}
            aria-describedby="text-hint"
            aria-invalid={error ? "true" : undefined}
            onInput={(e) => {
              setDraft((e.currentTarget as HTMLTextAreaElement).value);
              if (props.kind === "direct") typing.typed();
            }}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                if (!sending) send();
              }
            }}
          />
          <button type="submit" disabled={sending}>Send</button>
        </div>
        <div id="text-hint" class="hint muted">
          <span class="keys">
            Enter sends · Shift+Enter new line · ↑ edits your last · Esc back · Ctrl+K search
          </span>
          <LiveNote state={live} />
        </div>
        <p class="error" role="alert" hidden={!error}>{error}</p>
      </form>
    </div>
  );
}
