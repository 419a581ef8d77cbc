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

/** "14:05" (local time), for a message under its day's separator. */
export function clockTime(ts: number): string {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** The local day of `ts` as "2026-12-03", to tell two days apart. */
export function dayKey(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A day separator: "Today", "Yesterday", else "Monday 1 December 2026" (local time). */
export function dayLabel(ts: number, now = Date.now()): string {
  if (dayKey(ts) === dayKey(now)) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(yesterday.getDate() - 1);
  if (dayKey(ts) === dayKey(yesterday.getTime())) return "Yesterday";
  const d = new Date(ts);
  return `${DAYS[d.getDay()]} ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}`;
}

/** The list's time of a chat's last message: "14:05" today, "Yesterday", else "2026-11-24". */
export function listTime(ts: number, now = Date.now()): string {
  if (dayKey(ts) === dayKey(now)) return clockTime(ts);
  const label = dayLabel(ts, now);
  return label === "Yesterday" ? label : dayKey(ts);
}
