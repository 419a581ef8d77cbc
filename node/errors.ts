/**
 * The one error type of the node. `code` is stable and machine-readable; the
 * message is one line a person can act on; `cause` keeps what went wrong
 * underneath (a parser's own error, a socket's), for logs and ROJ_DEBUG. The
 * CLI prints `roj: <code>: <message>` and exits with the code's exit status
 * (cli/exit_codes.ts); the admin API and the control socket send
 * `{"code", "message"}`.
 */

/** Every error code, in one list (the CLI's exit-code table must name each). */
export const ROJ_ERROR_CODES = [
  /** A value given (an argument, a param, a file's content) is wrong. */
  "bad_input",
  /** The command line itself is malformed: unknown command or option, missing argument (CLI). */
  "usage",
  "not_found",
  "exists",
  "key_malformed",
  "key_passphrase_required",
  "key_bad_passphrase",
  "store_corrupt",
  "bad_signature",
  "wrong_chat",
  "seq_gap",
  "prev_mismatch",
  "equivocation",
  "seal_failed",
  /** No node runs in the data folder (nobody on its control socket). */
  "no_node",
  "unreachable",
  "refused",
  /**
   * This node's identity also writes on another node (a copied data folder or
   * key), and this node's entries were not the ones its contacts took: it
   * writes nothing until `roj identity resolve` (node/identity_guard).
   */
  "identity_conflict",
  "timeout",
  "protocol",
  "busy",
  "unknown_method",
  /** The key is in ssh-agent and the agent is gone or no longer holds it: nothing can be signed. */
  "agent_unavailable",
  /** A key of a type Roj cannot use (a FIDO key in the agent). */
  "key_unsupported",
  /** A bug: something failed that should not have. */
  "internal",
] as const;

export type RojErrorCode = typeof ROJ_ERROR_CODES[number];

const CODES: ReadonlySet<string> = new Set(ROJ_ERROR_CODES);

/** Whether `code` (say, from another process) is one of ours. */
export function isRojErrorCode(code: string): code is RojErrorCode {
  return CODES.has(code);
}

export interface RojErrorOptions {
  /** The underlying error, kept for logs. */
  cause?: unknown;
  /** Whether trying again later may succeed. @default false */
  retryable?: boolean;
}

export class RojError extends Error {
  readonly code: RojErrorCode;
  readonly retryable: boolean;

  constructor(code: RojErrorCode, message: string, options: RojErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RojError";
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** True when `err` is a RojError, optionally with the given code. */
export function isRojError(err: unknown, code?: RojErrorCode): err is RojError {
  return err instanceof RojError && (code === undefined || err.code === code);
}
