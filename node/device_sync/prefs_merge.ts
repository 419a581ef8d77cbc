/**
 * How a person's devices agree on each chat's settings and read state
 * (feature devprefs1): pure decisions, no store, no clock of their own.
 *
 * Each device keeps one record per chat id (the same on every device of a
 * person: a direct chat's id is the person key's with the contact's, a
 * group's is the group's, notes are the person key's). A record holds two
 * things that merge differently:
 * - the settings (muted, pinned, archived) with `at`, when the person set
 *   them, by the clock of the device they were set on (0: never set). The
 *   later wins (last writer wins per chat); at the same time, the greater by
 *   a fixed order of their content, so every device ends the same whatever
 *   order changes came in. A time more than MAX_CHANGE_SKEW_MS ahead of our
 *   clock counts as then, as for contacts (contact_merge.ts).
 * - `read`, the Lamport clock up to which the person read the chat. Entries
 *   carry their Lamport clock, so it means the same on every device: the
 *   highest wins, and a read mark never goes back.
 */
import { MAX_CHANGE_SKEW_MS } from "./contact_merge.ts";

/** One chat's settings and read mark as the person last left them, on some device. */
export interface PrefsRecord {
  readonly chat: string;
  readonly muted: boolean;
  readonly pinned: boolean;
  readonly archived: boolean;
  /** When the person set the settings (ms, the deciding device's clock); 0 when never. */
  readonly at: number;
  /** The Lamport clock up to which the person read the chat (0: nothing read). */
  readonly read: number;
}

/** The order that breaks a tie between two settings of one time. */
const content = (r: PrefsRecord) => (r.muted ? 4 : 0) + (r.pinned ? 2 : 0) + (r.archived ? 1 : 0);

/** Whether two records say the same. */
export function samePrefs(a: PrefsRecord, b: PrefsRecord): boolean {
  return a.chat === b.chat && a.at === b.at && a.read === b.read && content(a) === content(b);
}

/**
 * What a sibling's record of a chat does to ours: the record to keep when it
 * changes anything (newer settings, or a higher read mark), else null.
 */
export function mergePrefs(
  local: PrefsRecord | undefined,
  change: PrefsRecord,
  now: number,
): PrefsRecord | null {
  const at = Math.min(change.at, now + MAX_CHANGE_SKEW_MS);
  const theirs = at === change.at ? change : { ...change, at };
  if (!local) return theirs;
  const settingsWin = theirs.at > local.at ||
    (theirs.at === local.at && content(theirs) > content(local));
  const settings = settingsWin ? theirs : local;
  const next: PrefsRecord = {
    chat: local.chat,
    muted: settings.muted,
    pinned: settings.pinned,
    archived: settings.archived,
    at: settings.at,
    read: Math.max(local.read, theirs.read),
  };
  return samePrefs(next, local) ? null : next;
}

/** When settings changed here now are dated: now, but after the ones they replace. */
export function stampPrefs(previous: PrefsRecord | undefined, now: number): number {
  return previous && previous.at > 0 ? Math.max(now, previous.at + 1) : now;
}
