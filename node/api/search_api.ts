/**
 * The local API's search and per-chat settings methods (node/search,
 * node/handlers/search.ts): their params and results. Spread into api.ts's
 * tables.
 */
import { z } from "zod";

/** Longest search query accepted, in characters. */
export const MAX_QUERY = 200;
/** Hits one search answers at most. */
export const MAX_HITS = 100;

const chatName = z.string().min(1).max(64);

export const searchParams = {
  /** Full-text search over every chat this node holds (group messages as decrypted here). */
  search: z.object({
    query: z.string().min(1).max(MAX_QUERY),
    /** Only this chat. */
    chat: chatName.optional(),
    /** Hits at most. @default 20 */
    limit: z.number().int().min(1).max(MAX_HITS).optional(),
  }).strict(),
  /** Mute, pin or archive a chat on this node (each field left out stays as it is). */
  "chat.set": z.object({
    chat: chatName,
    muted: z.boolean().optional(),
    pinned: z.boolean().optional(),
    archived: z.boolean().optional(),
  }).strict(),
  /** This node's settings for the admin; `settings.set` changes the fields given. */
  settings: z.object({}).strict(),
  "settings.set": z.object({
    /** What a browser notification shows: sender and text, or only "new message". */
    notifyPreview: z.enum(["full", "hidden"]).optional(),
  }).strict(),
} as const;

/** A piece of a hit's context; `hit` marks a matched word. */
export interface SnippetPartView {
  readonly text: string;
  readonly hit: boolean;
}

export interface SearchHitView {
  /** The chat's name on this node (what `read` takes). */
  readonly chat: string;
  readonly chatKind: "notes" | "direct" | "group";
  /** The entry's hash (hex): names the message (`#m-<first 16>` in the admin's chat page). */
  readonly hash: string;
  readonly seq: number;
  readonly author: string;
  readonly authorFingerprint: string;
  readonly mine: boolean;
  readonly ts: number;
  /** The message around its first match, matched words marked. */
  readonly snippet: SnippetPartView[];
  /** How many of the chat's newest messages to load so that this one is among them. */
  readonly last: number;
}

export interface SearchView {
  readonly query: string;
  readonly hits: SearchHitView[];
  /** Messages that matched (hits is the best `limit` of them). */
  readonly total: number;
  /** Words of the query too common to be indexed (English stop words such as "the"): not searched for. */
  readonly ignored: string[];
  /** Messages indexed. */
  readonly indexed: number;
  /** False while the index is still being rebuilt after a start (hits may be missing). */
  readonly ready: boolean;
}

/** A chat's settings on this node. */
export interface ChatPrefsView {
  /** No notification for its messages. */
  readonly muted: boolean;
  /** Listed first. */
  readonly pinned: boolean;
  /** Hidden from the default chat list. */
  readonly archived: boolean;
}

export interface SettingsView {
  readonly notifyPreview: "full" | "hidden";
}

/** The search index was rebuilt from the log after a start: how many messages, in how long. */
export interface SearchIndexEvent {
  readonly type: "search-index";
  readonly state: "ready";
  readonly indexed: number;
  readonly ms: number;
}

export interface SearchResults {
  search: SearchView;
  "chat.set": ChatPrefsView & { readonly chat: string };
  settings: SettingsView;
  "settings.set": SettingsView;
}
