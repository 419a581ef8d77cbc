/**
 * Which link code a new device's proof answers, and whether it may still be
 * used: a pure function of the codes kept, the proof and `now`, so every
 * refusal has its reason and a test needs no clock.
 *
 * Codes are kept a while after they end (KEEP_ENDED_MS), so that a late or
 * second use of one is told "already used" or "expired" instead of a bare
 * SSH refusal; at most MAX_LINK_CODES at once.
 *
 * Two phases (feature devlink2), so that a kill at any moment leaves no
 * device linked on one side only: the first proof for a code reserves it
 * for that key (`pending`, with the certificate made for it) and the new
 * device writes its folder; its `device.confirm` then marks the code used
 * and records the device. Until then the same key may ask again and gets the
 * same certificate (a new device that was killed, or whose answer was lost,
 * starts again with the key it kept); any other key is refused. A pending
 * code that expires unconfirmed ends with no device.
 */
import { linkProof, sameBytes } from "./link_proof.ts";

/** Link codes kept at once (open or recently ended). */
export const MAX_LINK_CODES = 8;
/** How long an ended code (used or expired) is kept to give its reason. */
export const KEEP_ENDED_MS = 60 * 60 * 1000;

/** A link code as the linking node keeps it. */
export interface LinkCodeRecord {
  /** 32 hex digits, random: names the code in the store and in log lines. */
  readonly id: string;
  readonly secret: Uint8Array;
  /** Ms since the epoch. */
  readonly made: number;
  readonly expires: number;
  /** Set, in the same commit that recorded the device, once a device used it. */
  readonly used?: { readonly at: number; readonly device: Uint8Array };
  /** Reserved for one new device that has its certificate but has not confirmed yet. */
  readonly pending?: LinkPending;
}

/** A code's reservation for the key that first proved it (two-phase linking). */
export interface LinkPending {
  readonly at: number;
  readonly device: Uint8Array;
  readonly name: string;
  /** The certificate made for it (OpenSSH blob), sent again if it asks again. */
  readonly certificate: Uint8Array;
}

/** Why a link was refused. */
export type LinkRefusal = "wrong_secret" | "used" | "expired" | "in_use";

export type LinkDecision =
  /** `again`: this key asked before; answer what it got then (pending or used by it). */
  | { readonly ok: true; readonly code: LinkCodeRecord; readonly again?: "pending" | "used" }
  | { readonly ok: false; readonly why: LinkRefusal; readonly code?: LinkCodeRecord };

/** The one-line reason a refusal gives the new device. */
export const LINK_REFUSALS: Readonly<Record<LinkRefusal, string>> = {
  wrong_secret: "this link code was not made here (or its secret is wrong); make a new one",
  used: "this link code was already used; make a new one with `roj device link`",
  expired: "this link code expired; make a new one with `roj device link`",
  in_use:
    "another new device is being linked with this link code; make a new one with `roj device link`",
};

/** Whether `proof` from `device` answers one of `codes` made by `linking`, and whether it may be used at `now`. */
export function decideLink(
  codes: readonly LinkCodeRecord[],
  proof: Uint8Array,
  device: Uint8Array,
  linking: Uint8Array,
  now: number,
): LinkDecision {
  // Every code is tried, so the time taken says nothing of which one matched.
  let match: LinkCodeRecord | undefined;
  for (const c of codes) {
    if (sameBytes(linkProof(c.secret, device, linking), proof)) match = c;
  }
  if (match === undefined) return { ok: false, why: "wrong_secret" };
  if (match.used !== undefined) {
    return sameBytes(match.used.device, device)
      ? { ok: true, code: match, again: "used" }
      : { ok: false, why: "used", code: match };
  }
  if (match.expires <= now) return { ok: false, why: "expired", code: match };
  if (match.pending !== undefined) {
    return sameBytes(match.pending.device, device)
      ? { ok: true, code: match, again: "pending" }
      : { ok: false, why: "in_use", code: match };
  }
  return { ok: true, code: match };
}

/** Whether a code is still kept at `now`. */
export function isKept(code: LinkCodeRecord, now: number): boolean {
  const ended = code.used?.at ?? code.expires;
  return now < ended + KEEP_ENDED_MS;
}

/** Whether a code can still be used at `now`. */
export function isOpen(code: LinkCodeRecord, now: number): boolean {
  return code.used === undefined && now < code.expires;
}
