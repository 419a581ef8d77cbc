/**
 * How a conversation is laid out (pure, shared by the server render and the
 * browser): a day separator before the first message of each local day, and
 * messages grouped into runs by one author within one minute, as messengers
 * do. The run's first bubble names its author (in groups), its last shows the
 * time. A group's membership notes ("alice added bob") are never in a run of
 * messages; notes of one minute are a run of their own (whoever made them), so
 * a group's founding reads as a few lines under one time, not a time per line.
 */
import { dayKey, dayLabel } from "./_format.ts";

export interface Placed<M> {
  m: M;
  /** The separator to show before this message, when it starts a day. */
  day?: string;
  /** Starts a run (another author, another minute, or after a separator). */
  first: boolean;
  /** Ends a run. */
  last: boolean;
}

const minute = (ts: number) => Math.floor(ts / 60_000);

/** A membership note of a group, shown as a line of its own rather than a bubble. */
export const isNote = (m: { type?: string }): boolean => m.type?.startsWith("group.") ?? false;

export function placeMessages<M extends { authorFingerprint: string; ts: number; type?: string }>(
  messages: readonly M[],
  now = Date.now(),
): Placed<M>[] {
  const out: Placed<M>[] = [];
  let prev: M | undefined;
  for (const m of messages) {
    const newDay = prev === undefined || dayKey(prev.ts) !== dayKey(m.ts);
    const first = newDay || isNote(m) !== isNote(prev!) ||
      (!isNote(m) && prev!.authorFingerprint !== m.authorFingerprint) ||
      minute(prev!.ts) !== minute(m.ts);
    if (first && out.length > 0) out[out.length - 1]!.last = true;
    out.push({ m, first, last: false, ...(newDay ? { day: dayLabel(m.ts, now) } : {}) });
    prev = m;
  }
  if (out.length > 0) out[out.length - 1]!.last = true;
  return out;
}
