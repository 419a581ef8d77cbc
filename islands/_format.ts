/** Formatting shared by the server render and the browser, so hydration matches. */

const pad = (n: number) => String(n).padStart(2, "0");

/** "14:05" today, else "2025-11-24 14:05" (local time). */
export function formatTime(ts: number, now = Date.now()): string {
  const d = new Date(ts);
  const n = new Date(now);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (
    d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() &&
    d.getDate() === n.getDate()
  ) {
    return hm;
  }
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}

/** The ISO form for `<time datetime>`. */
export function isoTime(ts: number): string {
  return new Date(ts).toISOString();
}

/** Shortens a long text to `max` characters with an ellipsis. */
export function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}
