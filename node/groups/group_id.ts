/**
 * Group chat ids: "g-" and 26 lowercase base32 characters (130 bits) derived
 * from the founder's key and a random nonce that the founder publishes in its
 * `group.create` entry. Anyone can then check who founded a group from the id
 * alone, so a later member cannot slip in a second, earlier-sorting
 * `group.create` and pose as the first admin.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { base32nopad } from "@scure/base";
import { GROUP_ID_LABEL } from "../identity/mod.ts";

/** A group chat id: "g-" and 26 characters of [a-z2-7]. */
export const GROUP_ID_RE = /^g-[a-z2-7]{26}$/;
/** Bytes of the random nonce in a `group.create` body. */
export const GROUP_NONCE_BYTES = 16;

const LABEL = new TextEncoder().encode(GROUP_ID_LABEL);

/**
 * The id of the group founded by `founder` with `nonce`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GROUP_ID_RE, groupChatId } from "./group_id.ts";
 *
 * const id = groupChatId(new Uint8Array(32), new Uint8Array(16));
 * assert.match(id, GROUP_ID_RE);
 * ```
 */
export function groupChatId(founder: Uint8Array, nonce: Uint8Array): string {
  const h = sha256.create().update(LABEL).update(founder).update(nonce).digest();
  return "g-" + base32nopad.encode(h).slice(0, 26).toLowerCase();
}

/** Whether `chat` has the shape of a group chat id. */
export function isGroupChatId(chat: string): boolean {
  return GROUP_ID_RE.test(chat);
}
