/** Plain-text rendering of entries for the terminal. */
import type { Entry } from "../node/mod.ts";

const pad = (n: number) => String(n).padStart(2, "0");

/** Local time as "YYYY-MM-DD HH:MM". */
export function shortTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${
    pad(d.getMinutes())
  }`;
}

/** One line per entry; control characters in bodies are shown escaped so nothing can rewrite the terminal. */
export function entryLine(e: Entry, author: string): string {
  const body = e.body.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u0008\u000b-\u001f\u007f\u009b]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  return `${shortTime(e.ts)}  ${author}  ${body.replace(/\n/g, "\n    ")}`;
}
