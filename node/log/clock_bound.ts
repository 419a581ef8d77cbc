/**
 * How far an entry from someone else may move a chat's Lamport clock, and how
 * our own entries pick theirs.
 *
 * An honest entry carries one more than the highest clock its author had
 * seen, so the clocks of a chat that is all here have no gaps: a gap only
 * means entries we have not received yet. A hostile contact or group member
 * can sign any clock up to 2^53 - 1, and once the chat's clock is there our
 * own next entry has no safe integer left. So a merge refuses an entry that
 * jumps more than {@linkcode MAX_LAMPORT_JUMP} above the chat's clock (as it
 * stands with the entries accepted before it in the same merge, taken in
 * clock order). What it says in its refusal reaches the sender, and sync
 * offers the entry again on its next pass: an honest entry ahead of entries
 * still on their way is taken once they are in.
 *
 * Why this reference and not another: the author's own previous entry would
 * refuse a quiet member of a busy group (their next entry follows everything
 * others wrote meanwhile), and the time is the author's say (`ts`) or ours,
 * which two nodes never agree on to the entry. The chat's clock is what the
 * jump actually moves. Repeated steps just under the bound gain the attacker
 * at most the bound per accepted entry: taking the clock to
 * {@linkcode LAMPORT_CEILING} from 0 takes 2^32 entries stored here (over a
 * terabyte, days at the merge rate). And even then our own appends go on
 * (see {@linkcode nextLamport}).
 */
import { RojError } from "../errors.ts";

/**
 * The most an entry from someone else may raise the chat's clock (2^20).
 * An honest entry jumps this far only when over a million entries it follows
 * have not reached us yet.
 */
export const MAX_LAMPORT_JUMP = 2 ** 20;

/**
 * Our own entries follow the chat's clock only below this (2^52); above it
 * (a store that took a huge clock before the bound existed) they advance from
 * our own previous entry, which leaves 2^52 entries of room.
 */
export const LAMPORT_CEILING = 2 ** 52;

/**
 * The clock for our next entry: one above everything seen in the chat, or
 * above our own previous entry when the chat's clock is past the ceiling.
 * @throws {RojError} internal when our own chain has no safe integer left (it cannot, short of 2^52 own entries)
 */
export function nextLamport(chatClock: number, ownHead: number): number {
  const base = chatClock < LAMPORT_CEILING ? Math.max(chatClock, ownHead) : ownHead;
  const next = base + 1;
  if (!Number.isSafeInteger(next)) {
    throw new RojError("internal", "this chat's clock has no room left for own entries");
  }
  return next;
}

/**
 * Why an entry at `lamport` may not move a chat whose clock is `clock`, or
 * null when it may. @see MAX_LAMPORT_JUMP
 */
export function clockJumpRefusal(seq: number, lamport: number, clock: number): RojError | null {
  if (lamport - clock <= MAX_LAMPORT_JUMP) return null;
  return new RojError(
    "refused",
    `entry ${seq} would move the chat's clock from ${clock} to ${lamport}; ` +
      `at most ${MAX_LAMPORT_JUMP} above it is taken (it may be once the entries it follows are in)`,
    { retryable: true },
  );
}
