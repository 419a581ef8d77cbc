/// <reference lib="dom" />
/**
 * One conversation: messages in order with their delivery state, and the
 * send box. Rendered on the server; in the browser new messages arrive over
 * server-sent events and Enter sends without a reload. Without JavaScript the
 * form still posts to the page.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { MessageView } from "../node/api/mod.ts";
import { callApi } from "./_api.ts";
import { type LiveState, onEvents } from "./_events.ts";
import { LiveNote } from "./_live.tsx";
import { formatTime, isoTime } from "./_format.ts";
import { MessageActions, MessageBody, useTyping } from "./message_parts.tsx";

export interface ConversationProps {
  chat: string;
  kind: "notes" | "direct";
  messages: MessageView[];
  /** The longest message accepted, in characters. */
  maxText: number;
  /** How many messages the page loaded (newest). */
  last: number;
  /** What was typed, when the server refused it. */
  draft?: string;
  error?: string;
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
    return { text: "✓✓ read", title: "they have read it (their read receipt says so)" };
  }
  if (m.state === "delivered") return { text: "✓ delivered", title: "their node has it" };
  if (m.state === "at-anchor") {
    return {
      text: "→ at anchor",
      title: "an anchor you both use, or a friend of both, holds it for them",
    };
  }
  return { text: "· stored", title: "stored here, not yet delivered" };
}

export function Conversation(props: ConversationProps) {
  const [messages, setMessages] = useState(props.messages);
  const [draft, setDraft] = useState(props.draft ?? "");
  const [error, setError] = useState(props.error ?? "");
  const [sending, setSending] = useState(false);
  const [live, setLive] = useState<LiveState | null>(null);
  const endRef = useRef<HTMLLIElement>(null);
  const chat = props.chat;
  const typing = useTyping(chat);
  const showView = (v: MessageView) => setMessages((list) => mergeMessages(list, [v]));

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

  const count = messages.length;
  useEffect(() => {
    if (live !== null) endRef.current?.scrollIntoView({ block: "end" });
  }, [count]);

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
    try {
      const sent = await callApi<MessageView>(props.kind === "notes" ? "note" : "send", {
        ...(props.kind === "notes" ? {} : { chat }),
        text,
      });
      setMessages((list) => mergeMessages(list, [sent]));
      setDraft((d) => (d === text ? "" : d));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSending(false);
    }
  };

  return (
    <div class="conversation">
      <LiveNote state={live} />
      {messages.length === 0 && <p class="muted">No messages yet.</p>}
      <div
        role="log"
        aria-live="polite"
        aria-relevant="additions"
        aria-label={`Messages in ${chat}`}
      >
        <ol class="messages">
          {messages.map((m, i) => {
            const state = stateLabel(m);
            return (
              <li
                key={keyOf(m)}
                id={`m-${m.hash.slice(0, 16)}`}
                {...(i === messages.length - 1 ? { ref: endRef } : {})}
                class={m.mine ? "msg mine" : "msg"}
                data-seq={m.seq}
                data-state={m.state}
                data-id={m.id}
              >
                <p class="meta">
                  <span class="author">{m.mine ? "you" : m.author}</span> {m.device && (
                    <>
                      <span class="device muted" data-device={m.device}>on {m.device}</span>
                      {" "}
                    </>
                  )}
                  <time dateTime={isoTime(m.ts)}>{formatTime(m.ts)}</time>
                  {state && (
                    <>
                      {" "}
                      <span class={`state ${m.state}`} title={state.title}>{state.text}</span>
                    </>
                  )}
                </p>
                <MessageBody m={m} />
                <MessageActions m={m} chat={chat} onView={showView} onError={setError} />
              </li>
            );
          })}
        </ol>
      </div>
      <p class="typing muted" aria-live="polite" data-typing={typing.who ?? undefined}>
        {typing.who ? `${typing.who} is typing…` : ""}
      </p>
      <form
        class="composer"
        method="post"
        action={`/chats/${encodeURIComponent(chat)}/send`}
        onSubmit={(e) => {
          e.preventDefault();
          if (!sending) send();
        }}
      >
        <label for="text">Message</label>
        <textarea
          id="text"
          name="text"
          rows={2}
          maxLength={props.maxText}
          required
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
        <div class="row">
          <p id="text-hint" class="muted grow">Enter sends; Shift+Enter starts a new line.</p>
          <button type="submit" disabled={sending}>Send</button>
        </div>
        <p class="error" role="alert" hidden={!error}>{error}</p>
      </form>
    </div>
  );
}
