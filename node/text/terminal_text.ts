/**
 * Text from others, made safe to print on a terminal or in a log.
 *
 * A peer chooses its name, its error messages and its message bodies. Printed
 * raw, an escape sequence in them could move the cursor, recolour or clear
 * the screen, set the window title or, with some terminals, answer back; a
 * bidi override could reorder what is shown; a newline could forge a line of
 * the `roj run` log ("10:00:00 connected to mallory"). Every place that prints
 * peer text goes through one of these:
 *
 * - escapeControl: one line; every control character but tab shown escaped
 *   (`\n`, `\x1b`, `\u202e`), so the text cannot end the line it is printed on;
 * - escapeLines: for message bodies, whose own newlines are meant: each line is
 *   escaped and continuation lines are indented, so a body's second line can
 *   never pass for a line of its own;
 * - jsonLine: JSON for `--json`, with C1 controls, bidi controls and line
 *   separators as `\u` escapes (JSON escapes C0 itself); readers decode it to
 *   the same string.
 *
 * A backslash is not escaped: a name that holds the text `\x1b` prints like
 * one that holds the byte. That is ambiguous to read, not a way to reach the
 * terminal.
 */

/**
 * Characters shown escaped: C0 controls but tab (newline included), DEL, C1
 * controls, the bidi marks, embeddings, overrides and isolates, and the
 * Unicode line and paragraph separators.
 */
const UNSAFE =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** What JSON.stringify leaves raw that a terminal may act on. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

function shown(c: string): string {
  const code = c.charCodeAt(0);
  if (code === 0x0a) return "\\n";
  return code > 0xff
    ? `\\u${code.toString(16).padStart(4, "0")}`
    : `\\x${code.toString(16).padStart(2, "0")}`;
}

/**
 * `text` on one line with every control character but tab, every bidi
 * control and the line separators escaped: a newline as `\n`, others as
 * `\xNN` or `\uNNNN`. Escaping twice changes nothing more.
 * @example
 * ```ts
 * import { escapeControl } from "./terminal_text.ts";
 * escapeControl("\x1b[2Jhi\n10:00:00 ok"); // "\\x1b[2Jhi\\n10:00:00 ok"
 * ```
 */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, shown);
}

/**
 * A multi-line text (a message body) for the terminal: each line escaped as
 * escapeControl does, lines after the first prefixed with `indent`, so none
 * of them can pass for a line of its own.
 * @example
 * ```ts
 * import { escapeLines } from "./terminal_text.ts";
 * escapeLines("hi\n10:00:00 connected", "    "); // "hi\n    10:00:00 connected"
 * ```
 */
export function escapeLines(text: string, indent: string): string {
  return text.split("\n").map(escapeControl).join(`\n${indent}`);
}

/**
 * `value` as one line of JSON (no newline at the end) that a terminal shows
 * as it is: JSON.stringify, then C1 controls, bidi controls and line
 * separators written as `\u` escapes, which any JSON reader decodes back.
 * Undefined is written as `null`.
 * @throws {TypeError} what JSON.stringify throws (a cycle, a BigInt).
 */
export function jsonLine(value: unknown): string {
  return (JSON.stringify(value) ?? "null").replace(
    UNSAFE_IN_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
