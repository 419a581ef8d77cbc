/**
 * When the puncher tries each unreached contact on its own, as pure
 * functions of (retries, contacts, now): a contact must stay unreached for a
 * grace period first (a direct dial about to succeed goes first), and of two
 * contacts the one with the smaller key goes first while the other waits two
 * rounds, so both sides do not punch at once; a failure backs off, doubling
 * with jitter, and a target behind a symmetric NAT is looked at again only
 * as rarely as ever.
 */
import { backoffDelay } from "../peers/mod.ts";
import type { PunchResult } from "./punch_host.ts";

export interface PunchScheduleOptions {
  /** How often unreached contacts are looked at. 0 turns automatic punching off. @default 2000 */
  readonly intervalMs?: number;
  /**
   * How long a contact must stay unreached before the first punch, so that a
   * direct dial that is about to succeed goes first. @default 3000
   */
  readonly graceMs?: number;
  /** First retry delay after a failed punch; doubles up to maxRetryMs. @default 5000 */
  readonly retryMs?: number;
  /** @default 120000 */
  readonly maxRetryMs?: number;
}

/** When an unreached contact may be tried next, and how often it failed. */
export interface RetryEntry {
  readonly at: number;
  readonly failures: number;
  /** Why the last punch failed. */
  readonly reason?: string;
}

/** Fills in the defaults. */
export function resolveSchedule(o: PunchScheduleOptions = {}): Required<PunchScheduleOptions> {
  return {
    intervalMs: o.intervalMs ?? 2000,
    graceMs: o.graceMs ?? 3000,
    retryMs: o.retryMs ?? 5000,
    maxRetryMs: o.maxRetryMs ?? 120_000,
  };
}

/**
 * One round at `now`: the retries kept (only for contacts still unreached,
 * a new one for each contact seen unreached for the first time) and the
 * contacts due (their hex keys), leaving out those `running` a punch already.
 */
export function planRound(
  retries: ReadonlyMap<string, RetryEntry>,
  unreached: readonly string[],
  me: string,
  now: number,
  running: ReadonlySet<string>,
  o: Required<PunchScheduleOptions>,
): { retries: Map<string, RetryEntry>; due: string[] } {
  const next = new Map<string, RetryEntry>();
  const due = new Set<string>();
  for (const k of unreached) {
    let r = retries.get(k) ?? next.get(k);
    if (!r) {
      const goFirst = me < k;
      r = { at: now + o.graceMs + (goFirst ? 0 : 2 * o.intervalMs), failures: 0 };
    }
    next.set(k, r);
    if (now >= r.at && !running.has(k)) due.add(k);
  }
  return { retries: next, due: [...due] };
}

/**
 * A contact's retry after a punch ended at `now`: none once it worked; else
 * one more failure, and the next try after the back-off (`random` in [0, 1)
 * draws its jitter).
 */
export function afterPunch(
  r: RetryEntry,
  result: PunchResult,
  now: number,
  o: Required<PunchScheduleOptions>,
  random: () => number,
): RetryEntry | undefined {
  if (result.ok) return undefined;
  const failures = r.failures + 1;
  // Behind a symmetric NAT it stays one: look again only as rarely as ever.
  const wait = result.attempts.some((a) => a.code === "target-symmetric-nat")
    ? o.maxRetryMs
    : backoffDelay(failures - 1, { initialMs: o.retryMs, maxMs: o.maxRetryMs, random });
  return { at: now + wait, failures, reason: result.reason };
}
