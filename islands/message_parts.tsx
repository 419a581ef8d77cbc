/// <reference lib="dom" />
/**
 * What a message shows beyond its text — the message it replies to,
 * "edited" with the history one click away (a details element), "deleted
 * for everyone", reactions — and its actions: react, reply, and for your own
 * messages edit and delete for everyone. Each action is a plain form that
 * posts to the page without JavaScript (routes/pages/message_actions.tsx);
 * with it, the island calls the API and shows the answer in place.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { FileView, MessageView } from "../node/api/mod.ts";
import { callApi } from "./_api.ts";
import { formatTime, isoTime } from "./_format.ts";
import { Emojied, onlyEmoji } from "./_emoji.tsx";
import { ImageThumb } from "./_lightbox.tsx";

/** The reactions offered with one click. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢"] as const;

/**
 * The reply quote, the text, "edited" with its history, or "deleted for
 * everyone"; an image file's thumbnail (`file`, when it has one); reactions.
 */
export function MessageBody({ m, file }: { m: MessageView; file?: FileView | undefined }) {
  if (m.deleted) {
    return (
      <p class="body deleted" data-deleted>
        Deleted for everyone.{" "}
        <span class="muted">Copies made before it (an export, a backup) may remain.</span>
      </p>
    );
  }
  return (
    <>
      {m.replyTo && (
        <blockquote class="quote" data-reply-to={m.replyTo.id}>
          {m.replyTo.author !== undefined
            ? (
              <>
                <span class="author">{m.replyTo.author}</span>:{" "}
                <Emojied text={m.replyTo.body || "(deleted)"} />
              </>
            )
            : "a message this node does not hold"}
        </blockquote>
      )}
      <p class={onlyEmoji(m.body) ? "body jumbo" : "body"}>
        <Emojied text={m.body} />
      </p>
      {file?.thumb && <ImageThumb chat={m.chat} f={file} />}
      {m.edited && (
        <details class="edited">
          <summary>edited</summary>
          <ol aria-label="Earlier versions, oldest first">
            {(m.history ?? []).map((v, i) => (
              <li key={i}>
                <time dateTime={isoTime(v.ts)}>{formatTime(v.ts)}</time> <Emojied text={v.body} />
              </li>
            ))}
          </ol>
        </details>
      )}
      {m.reactions && (
        <ul class="reactions" aria-label="Reactions">
          {m.reactions.map((r) => (
            <li key={r.emoji} class={r.mine ? "mine" : ""} title={r.authors.join(", ")}>
              {r.emoji} <span class="count">{r.authors.length}</span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

interface ActionProps {
  m: MessageView;
  chat: string;
  /** A message as the node now shows it (the target, or a new reply). */
  onView(m: MessageView): void;
  onError(message: string): void;
}

/** React, reply, edit and delete, behind a details element; forms that work without JavaScript. */
export function MessageActions({ m, chat, onView, onError }: ActionProps) {
  const ref = useRef<HTMLDetailsElement>(null);
  if (m.deleted || (m.type !== "msg" && m.type !== "reply")) return null;
  const base = `/chats/${encodeURIComponent(chat)}`;
  const mineReaction = m.reactions?.find((r) => r.mine);
  const submit =
    (method: string, params: (data: FormData) => Record<string, unknown>) =>
    async (e: SubmitEvent) => {
      e.preventDefault();
      const form = e.currentTarget as HTMLFormElement;
      const data = new FormData(form, e.submitter);
      try {
        onView(await callApi<MessageView>(method, { chat, ...params(data) }));
        form.reset();
        if (ref.current) ref.current.open = false;
      } catch (err) {
        onError((err as Error).message);
      }
    };
  const text = (data: FormData) => String(data.get("text") ?? "");
  // In a reply or edit box, as in the composer: Enter sends, Shift+Enter starts a new line.
  const enterSends = (e: KeyboardEvent) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      (e.currentTarget as HTMLTextAreaElement).form?.requestSubmit();
    }
  };
  return (
    <details class="actions" ref={ref}>
      <summary aria-label={`Actions for the message at ${formatTime(m.ts)}`}>⋯</summary>
      <form
        method="post"
        action={`${base}/react`}
        class="react"
        onSubmit={submit("react", (d) => ({ id: m.id, emoji: String(d.get("emoji") ?? "") }))}
      >
        <input type="hidden" name="id" value={m.id} />
        {QUICK_REACTIONS.map((emoji) => (
          <button
            key={emoji}
            type="submit"
            name="emoji"
            value={emoji}
            aria-label={`React ${emoji}`}
            aria-pressed={mineReaction?.emoji === emoji ? "true" : "false"}
          >
            {emoji}
          </button>
        ))}
        {mineReaction && <button type="submit" name="emoji" value="">Remove my reaction</button>}
      </form>
      <form
        method="post"
        action={`${base}/reply`}
        onSubmit={submit("send", (d) => ({ reply: m.id, text: text(d) }))}
      >
        <input type="hidden" name="id" value={m.id} />
        <textarea
          name="text"
          rows={1}
          required
          aria-label="Reply"
          placeholder="Reply…"
          onKeyDown={enterSends}
        />
        <button type="submit">Send reply</button>
      </form>
      {m.mine && (
        <>
          <form
            method="post"
            action={`${base}/edit`}
            class="edit"
            onSubmit={submit("edit", (d) => ({ id: m.id, text: text(d) }))}
          >
            <input type="hidden" name="id" value={m.id} />
            <textarea
              name="text"
              rows={2}
              required
              aria-label="New text"
              onKeyDown={enterSends}
            >
              {m.body}
            </textarea>
            <button type="submit">Save edit</button>
          </form>
          <form
            method="post"
            action={`${base}/delete`}
            onSubmit={submit("delete", () => ({ id: m.id }))}
          >
            <input type="hidden" name="id" value={m.id} />
            <p class="muted">
              Every member's node hides it once it gets this; copies made before it may remain.
            </p>
            <button type="submit" class="danger">Delete for everyone</button>
          </form>
        </>
      )}
    </details>
  );
}

/** How long "… is typing" stays without another notice, in ms. */
const TYPING_SHOWN_MS = 5000;
/** Least time between two typing notices this page asks the node to send, in ms. */
const TYPING_EVERY_MS = 3000;

/**
 * Who is typing in `chat` (from "typing" events, shown a few seconds), and
 * `typed()` to call as the person types: it asks the node to tell the
 * contact, at most every few seconds.
 */
export function useTyping(
  chat: string,
): { who: string | null; seen(who: string): void; typed(): void } {
  const [who, setWho] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const lastSent = useRef(0);
  useEffect(() => () => clearTimeout(timer.current), [chat]);
  return {
    who,
    seen(name: string) {
      setWho(name);
      clearTimeout(timer.current);
      timer.current = setTimeout(() => setWho(null), TYPING_SHOWN_MS);
    },
    typed() {
      const now = Date.now();
      if (now - lastSent.current < TYPING_EVERY_MS) return;
      lastSent.current = now;
      callApi("typing", { chat }).catch(() => {}); // a group or notes: nothing to tell
    },
  };
}
