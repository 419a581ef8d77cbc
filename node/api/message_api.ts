/**
 * The local API's message methods beyond send and read (edit, delete,
 * react, receipts, typing; node/handlers/messages.ts), what a message shows
 * of its replies, edits and reactions, and the receipt and typing events.
 * Spliced into api.ts's method table, MessageView, NodeEvent and Results.
 */
import { z } from "zod";
import type { MessageView } from "./api.ts";

/** Longest text message accepted from a person, in characters (the entry limit is 64 KiB of UTF-8). */
export const MAX_TEXT = 16_000;
const chatName = z.string().min(1).max(64);
/** A message's `id` as MessageView shows it, or any prefix of its hash of at least 4 hex digits. */
export const messageId = z.string().regex(/^[0-9a-f]{4,64}$/, "a message id is 4 to 64 hex digits");

/** `send`: a message, or with `reply` the id (or a hash prefix) of the message it answers. */
export const sendParams = z.object({
  chat: chatName,
  text: z.string().min(1).max(MAX_TEXT),
  reply: messageId.optional(),
}).strict();

/** Parameters of the message methods. */
export const messageMethodParams = {
  /** Replace the text of one of your messages (the history stays, one click away). */
  edit: z.object({ chat: chatName, id: messageId, text: z.string().min(1).max(MAX_TEXT) }).strict(),
  /** Delete one of your messages for everyone: a signed retraction every member's node honours. */
  delete: z.object({ chat: chatName, id: messageId }).strict(),
  /** React to a message with one emoji ("" takes your reaction back). */
  react: z.object({ chat: chatName, id: messageId, emoji: z.string().max(32) }).strict(),
  /** Read receipts: shown with no `on`; turned on or off for everyone, or for one contact. */
  receipts: z.object({ on: z.boolean().optional(), contact: z.string().min(1).max(40).optional() })
    .strict(),
  /** Tell a direct chat's contact, if a session is up, that you are typing (rate-limited). */
  typing: z.object({ chat: chatName }).strict(),
} as const;

/** What a message shows beyond its entry (messages/fold). */
export interface MessageAnnotations {
  /** What `roj edit/delete/react` and `send --reply` take: the first 12 hex digits of `hash`. */
  readonly id: string;
  /** For a reply: the message it answers (author and text when this node holds it). */
  readonly replyTo?: { readonly id: string; readonly author?: string; readonly body?: string };
  /** The author changed the text; `history` holds the earlier versions, oldest first. */
  readonly edited?: boolean;
  readonly history?: readonly { readonly body: string; readonly ts: number }[];
  /** Deleted for everyone by its author: `body` is empty (copies made before may remain). */
  readonly deleted?: boolean;
  /** One emoji per person; `mine` when one of them is this node's. */
  readonly reactions?: readonly {
    readonly emoji: string;
    readonly authors: readonly string[];
    readonly mine: boolean;
  }[];
}

/** Read receipts: the global switch and the contacts they are off for. */
export interface ReceiptsView {
  readonly on: boolean;
  readonly offFor: readonly string[];
}

/** Events about messages: read receipts and typing. */
export type MessageEvent =
  /** The contact of a direct chat has read our messages up to `seq` (a read receipt). */
  | { readonly type: "read"; readonly chat: string; readonly seq: number }
  /** Someone is typing in a chat (ephemeral: never stored). */
  | { readonly type: "typing"; readonly chat: string; readonly who: string };

/** What each message method returns. */
export interface MessageResults {
  edit: MessageView;
  delete: MessageView;
  react: MessageView;
  receipts: ReceiptsView;
  typing: { sent: boolean };
}
