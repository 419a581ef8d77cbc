/** What a merge reports: the entries stored, the duplicates, and each rejection with its reason. */
import { RojError, type RojErrorCode } from "../errors.ts";
import type { Entry } from "./entry.ts";

/**
 * Why an entry was not stored. "refused": it would move the chat's clock
 * too far (clock_bound.ts); it may be taken later, once the entries it
 * follows are in.
 */
export type RejectCode = Extract<
  RojErrorCode,
  | "bad_input"
  | "bad_signature"
  | "wrong_chat"
  | "seq_gap"
  | "prev_mismatch"
  | "equivocation"
  | "refused"
>;

/** One entry not stored, and why; author and seq when the entry decoded. */
export interface Rejection {
  readonly code: RejectCode;
  readonly reason: string;
  readonly author?: Uint8Array;
  readonly seq?: number;
}

export interface MergeResult {
  /** Entries newly committed, in the order they were committed. */
  readonly stored: Entry[];
  /** Entries that were already stored, byte for byte. */
  readonly duplicates: number;
  readonly rejected: Rejection[];
}

export interface MergeOptions {
  /** Store nothing unless every entry can be stored (duplicates aside). @default false */
  allOrNothing?: boolean;
}

/**
 * The rejection for an entry that failed to decode or verify.
 * @throws what is not a RojError (a bug, not bad input)
 */
export function rejection(err: unknown): Rejection {
  if (!(err instanceof RojError)) throw err;
  return {
    code: err.code === "bad_signature" ? "bad_signature" : "bad_input",
    reason: err.message,
  };
}
