/**
 * Where a member is in each epoch's boxes at one anchor, and which epochs a
 * visit fetches: pure functions of (cursors, epochs, now).
 *
 * A visit fetches under the current epoch, the one before it, and any epoch
 * fetched before until GRACE_MS after it stopped being current here (so
 * entries filed by members who had not seen a change yet are not lost); later
 * visits in a session, under the current one and those the anchor says have
 * new boxes.
 */
import type { MailEpoch } from "./mail_epoch.ts";

/** The anchor's number of the last box fetched, with the mailbox's generation. */
export interface Cursor {
  gen: string;
  after: number;
}

/** What is stored per anchor, group and epoch fetched. */
export interface EpochCursor extends Cursor {
  /** When the epoch was first seen not current here (ms); absent while it is. */
  ended?: number;
}

/** Cursors by epoch id. */
export type Cursors = Record<string, EpochCursor>;

/**
 * How long an epoch that is no longer current is still fetched: members who
 * have not seen the change yet keep filing under it (the anchor's default
 * expiry; its boxes are gone after that anyway).
 */
export const GRACE_MS = 30 * 86_400_000;
/** Past epochs in their grace period fetched per visit, at most (the newest). */
const MAX_GRACE_EPOCHS = 8;

/** Whether a stored value is the cursors record (version 2). */
export function isCursors(v: unknown): v is { v: 2; e: Cursors } {
  return typeof v === "object" && v !== null && (v as { v: unknown }).v === 2 &&
    typeof (v as { e: unknown }).e === "object";
}

/** What decides which epochs a visit fetches next. */
export interface DueQuery {
  /** The group's epochs that count here now, oldest first. */
  readonly epochs: readonly MailEpoch[];
  /** The current epoch when the visit began. */
  readonly startedAt: string | undefined;
  /** Tags the anchor said have new boxes. */
  readonly notified: ReadonlySet<string>;
  /** The first visit of the group in this session. */
  readonly first: boolean;
  readonly cursors: Readonly<Cursors>;
  /** Epochs fetched in this visit already. */
  readonly done: ReadonlySet<string>;
  readonly now: number;
}

/**
 * The epochs to fetch next, oldest first: any that came in since the visit
 * began, the one current then, those with new boxes and, on the first visit,
 * the one before and the newest past epochs in their grace period.
 */
export function dueEpochs(q: DueQuery): MailEpoch[] {
  const { epochs, startedAt, cursors, now } = q;
  const since = epochs.findIndex((ep) => ep.id === startedAt);
  const wanted = new Set<string>(epochs.slice(since < 0 ? -1 : since + 1).map((ep) => ep.id));
  if (startedAt !== undefined) wanted.add(startedAt);
  for (const ep of epochs) if (q.notified.has(ep.keys.tag)) wanted.add(ep.id);
  if (q.first) {
    if (epochs.length >= 2) wanted.add(epochs.at(-2)!.id);
    epochs.filter((ep) => {
      const c = cursors[ep.id];
      return c !== undefined && (c.ended === undefined || now - c.ended < GRACE_MS);
    }).slice(-MAX_GRACE_EPOCHS).forEach((ep) => wanted.add(ep.id));
  }
  return epochs.filter((ep) => wanted.has(ep.id) && !q.done.has(ep.id));
}

/**
 * The cursors after a visit: those of epochs no longer held, or past their
 * grace, dropped; a past epoch's end noted the first time it is seen past;
 * the current one's end cleared.
 */
export function retireCursors(
  cursors: Readonly<Cursors>,
  epochs: readonly MailEpoch[],
  now: number,
): Cursors {
  const current = epochs.at(-1)?.id;
  const held = new Set(epochs.map((ep) => ep.id));
  const out: Cursors = {};
  for (const [id, c] of Object.entries(cursors)) {
    if (!held.has(id) || (c.ended !== undefined && now - c.ended >= GRACE_MS)) continue;
    if (id === current) {
      const { ended: _, ...rest } = c;
      out[id] = rest;
    } else out[id] = c.ended === undefined ? { ...c, ended: now } : { ...c };
  }
  return out;
}
