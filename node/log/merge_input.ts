/**
 * A merge's checks before the chain rules: decoding and sorting what came
 * in, then checking signatures and that each entry belongs to the chat.
 */
import {
  badSignature,
  decodeUnchecked,
  type Ed25519Verifier,
  type Entry,
  entryCheck,
} from "./entry.ts";
import { type Rejection, rejection } from "./merge_result.ts";
import type { RawEntry } from "./stored_entry.ts";
import { verifyChecks } from "./verify.ts";

/** Decodes and hashes every entry, sorted by author (`keyOf`) then seq; the malformed are rejected. */
export function decodeSorted(
  raws: ReadonlyArray<RawEntry>,
  keyOf: (author: Uint8Array) => string,
): { decoded: Entry[]; rejected: Rejection[] } {
  const rejected: Rejection[] = [];
  const keyed: Array<{ k: string; e: Entry }> = [];
  for (const r of raws) {
    try {
      const e = decodeUnchecked(r.signed, r.sig);
      keyed.push({ k: keyOf(e.author), e });
    } catch (err) {
      rejected.push(rejection(err));
    }
  }
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.e.seq - b.e.seq));
  return { decoded: keyed.map((x) => x.e), rejected };
}

/**
 * The entries of `fresh` whose signatures verify and that belong to `chat`;
 * the others are added to `rejected` (shared by a merge's steps, in the order
 * they finish). `here` checks on this thread even when the verifier has a pool.
 */
export async function verifyCandidates(
  chat: string,
  fresh: readonly Entry[],
  verifier: Ed25519Verifier | undefined,
  here: boolean,
  rejected: Rejection[],
): Promise<Entry[]> {
  const entries: Entry[] = [];
  const checks = [];
  for (const e of fresh) {
    try {
      checks.push(entryCheck(e));
      entries.push(e);
    } catch (err) {
      rejected.push(rejection(err));
    }
  }
  const ok = await verifyChecks(checks, verifier, { here });
  const candidates: Entry[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (!ok[i]) rejected.push(rejection(badSignature(e.seq)));
    else if (e.chat !== chat) {
      rejected.push({
        code: "wrong_chat",
        reason: `entry belongs to chat ${e.chat}, not ${chat}`,
        author: e.author,
        seq: e.seq,
      });
    } else candidates.push(e);
  }
  return candidates;
}
