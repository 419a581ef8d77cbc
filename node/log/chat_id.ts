/**
 * Chat ids are derived, not chosen, so both members of a 1:1 chat name it the
 * same way without asking anyone: lowercase base32 of a namespaced SHA-256.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { base32nopad } from "@scure/base";
import { DIRECT_CHAT_LABEL, NOTES_CHAT_LABEL } from "../identity/mod.ts";
import { compareBytes } from "./order.ts";

const encoder = new TextEncoder();

function derive(prefix: string, label: string, ...parts: Uint8Array[]): string {
  const h = sha256.create().update(encoder.encode(label));
  for (const p of parts) h.update(p);
  return prefix + base32nopad.encode(h.digest()).slice(0, 32).toLowerCase();
}

/** The note-to-self chat of one identity. */
export function notesChatId(self: Uint8Array): string {
  return derive("n-", NOTES_CHAT_LABEL, self);
}

/** The 1:1 chat of two identities; the same from either side. */
export function directChatId(a: Uint8Array, b: Uint8Array): string {
  const [x, y] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
  return derive("d-", DIRECT_CHAT_LABEL, x, y);
}
