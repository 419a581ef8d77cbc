/**
 * The membership epochs a member files group mail under, and which of them
 * an entry goes under (see group_mailbox.ts): pure functions of the epochs.
 */
import { compareBytes, type Entry } from "../log/mod.ts";
import type { Membership } from "../groups/mod.ts";
import type { MailboxKeys } from "./mailbox_crypto.ts";

/** An epoch whose tag this node files under and fetches. */
export interface MailEpoch {
  readonly id: string;
  /** Its starting entry's place in display order (Lamport, then author: unique per entry). */
  readonly lamport: number;
  readonly author: Uint8Array;
  readonly secret: Uint8Array;
  readonly keys: MailboxKeys;
}

/** Whether an entry sorts at or after an epoch's start. */
function startsBefore(ep: MailEpoch, e: Pick<Entry, "lamport" | "author">): boolean {
  return ep.lamport < e.lamport ||
    (ep.lamport === e.lamport && compareBytes(ep.author, e.author) <= 0);
}

/**
 * The epochs an entry is filed under: the newest of `epochs` (oldest first)
 * that starts at or before it (the oldest, for history from before we
 * joined); an entry that starts an epoch also under the one before, so
 * members who missed the change find it under the tag they know.
 */
export function fileUnder(
  epochs: readonly MailEpoch[],
  e: Pick<Entry, "lamport" | "author">,
): MailEpoch[] {
  let i = epochs.length - 1;
  while (i > 0 && !startsBefore(epochs[i]!, e)) i--;
  if (i < 0) return [];
  const ep = epochs[i]!;
  const starts = i > 0 && ep.lamport === e.lamport && compareBytes(ep.author, e.author) === 0;
  return starts ? [ep, epochs[i - 1]!] : [ep];
}

/**
 * The epoch that began `hex`'s current stretch of membership: the first of
 * the trailing run of epochs sealed to them. Null when the newest is not.
 */
export function stretchStart(m: Membership, hex: string): string | null {
  let since: string | null = null;
  for (let i = m.epochs.length - 1; i >= 0 && m.epochs[i]!.keys.has(hex); i--) {
    since = m.epochs[i]!.id;
  }
  return since;
}
