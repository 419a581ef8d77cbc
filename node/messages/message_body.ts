/**
 * The bodies of the entry types that refer to another message, as text
 * (a direct chat's entry body; in a group, the plaintext inside the
 * encryption of groups/group_crypto.ts, exactly like a "msg"):
 *
 *   reply    {"to": target hash (64 hex), "text": the reply}
 *   edit     {"to": target hash, "text": the new text}
 *   retract  {"to": target hash}                     delete for everyone
 *   react    {"to": target hash, "emoji": one emoji}  "" takes a reaction back
 *
 * Bodies are strict JSON objects, schema-checked and bounded; anything else
 * is "malformed" and never applied. Only "msg" and "reply" are messages that
 * can be targeted.
 */
import { z } from "zod";
import { MAX_TEXT } from "../api/mod.ts";

/** Entry types that carry a message of their own. */
export const MESSAGE_TYPES: ReadonlySet<string> = new Set(["msg", "reply"]);
/** Entry types that change another message rather than show as one. */
export const ANNOTATION_TYPES: ReadonlySet<string> = new Set(["edit", "retract", "react"]);
/** Entry types whose bodies are text (encrypted in a group): messages and annotations. */
export const CONTENT_TYPES: ReadonlySet<string> = new Set([...MESSAGE_TYPES, ...ANNOTATION_TYPES]);
/** Longest reaction accepted, in UTF-16 units (one grapheme: flags and ZWJ families are long). */
export const MAX_EMOJI_CHARS = 32;

const hash = z.string().regex(/^[0-9a-f]{64}$/);
const text = z.string().min(1).max(MAX_TEXT);

const schemas = {
  reply: z.object({ to: hash, text }).strict(),
  edit: z.object({ to: hash, text }).strict(),
  retract: z.object({ to: hash }).strict(),
  react: z.object({ to: hash, emoji: z.string().max(MAX_EMOJI_CHARS) }).strict(),
} as const;

/** A parsed body of one of the referring types. */
export type RefBody =
  | { readonly type: "reply"; readonly to: string; readonly text: string }
  | { readonly type: "edit"; readonly to: string; readonly text: string }
  | { readonly type: "retract"; readonly to: string }
  | { readonly type: "react"; readonly to: string; readonly emoji: string };

const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });
const PICTOGRAPHIC = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;
const NOT_EMOJI = /[\p{Cc}\p{Zl}\p{Zp}\s\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]/u;

/** Whether `s` is one emoji: a single grapheme that is pictographic, bounded in length. */
export function isEmoji(s: string): boolean {
  if (s.length === 0 || s.length > MAX_EMOJI_CHARS || NOT_EMOJI.test(s)) return false;
  if (!PICTOGRAPHIC.test(s)) return false;
  let n = 0;
  for (const _ of segmenter.segment(s)) if (++n > 1) return false;
  return true;
}

/** The body of a referring entry `type` as text. */
export function encodeRefBody(b: RefBody): string {
  const { type: _, ...rest } = b;
  return JSON.stringify(rest);
}

/** Parses the text of an entry of a referring type; null when malformed or not such a type. */
export function parseRefBody(type: string, body: string): RefBody | null {
  if (!Object.hasOwn(schemas, type) || body.length > 4 * MAX_TEXT) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return null;
  }
  const res = schemas[type as keyof typeof schemas].safeParse(raw);
  if (!res.success) return null;
  const b = { type, ...res.data } as RefBody;
  if (b.type === "react" && b.emoji !== "" && !isEmoji(b.emoji)) return null;
  return b;
}
