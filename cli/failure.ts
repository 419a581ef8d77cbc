/**
 * How a failed command reports: one line on stderr,
 *
 *   roj: <code>: <message>
 *
 * or, when the command line asked for `--json`, one object on stdout,
 *
 *   {"error":{"code":"<code>","message":"<message>"}}
 *
 * and an exit status by code (exit_codes.ts). The code is a RojError's stable
 * code; anything else thrown is first turned into one (asRojError). Messages
 * may carry a peer's text, so neither form lets a control character or a
 * bidi override reach the terminal.
 */
import { CommanderError } from "commander";
import { escapeControl, jsonLine, RojError } from "../node/mod.ts";

/** What commander adds after its usage errors. */
const USAGE_HINT = "(run with --help for usage)";

/**
 * Whatever a command threw, as the RojError the CLI reports: commander's own
 * errors are `usage`, the system's permission errors `refused` and its missing
 * files `not_found`; anything else is a bug (`internal`). The original is the
 * `cause`.
 */
export function asRojError(err: unknown): RojError {
  if (err instanceof RojError) return err;
  if (err instanceof CommanderError) {
    const text = err.message.replace(/^error:\s*/, "").replace(/\s*\n\s*/g, " ").trim();
    return new RojError("usage", `${text} ${USAGE_HINT}`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
    return new RojError("refused", message, { cause: err });
  }
  if (err instanceof Deno.errors.NotFound) {
    return new RojError("not_found", message, { cause: err });
  }
  return new RojError("internal", message, { cause: err });
}

/** The line printed on stderr for `err`, newline included. */
export function failureLine(err: RojError): string {
  return `roj: ${err.code}: ${escapeControl(err.message)}\n`;
}

/**
 * The JSON printed on stdout for `err` with --json, newline included. JSON
 * escapes C0 controls itself; C1 controls and bidi overrides are escaped too
 * (`\u009b`), which JSON readers decode to the same string.
 */
export function failureJson(err: RojError): string {
  return jsonLine({ error: { code: err.code, message: err.message } }) + "\n";
}

/** For ROJ_DEBUG: the stack of `err` and of each cause under it. */
export function debugText(err: unknown): string {
  const lines: string[] = [];
  let at: unknown = err;
  for (let depth = 0; at !== undefined && depth < 8; depth++) {
    const text = at instanceof Error ? at.stack ?? `${at.name}: ${at.message}` : String(at);
    lines.push(depth === 0 ? text : `caused by: ${text}`);
    at = at instanceof Error ? at.cause : undefined;
  }
  return lines.join("\n") + "\n";
}

/** Whether the command line asks for JSON (`--json` before any `--`). */
export function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).includes("--json");
}
