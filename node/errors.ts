/**
 * The one error type of the node. `code` is stable and machine-readable; the
 * message is one line a person can act on. The CLI prints `message` alone.
 */
export type RojErrorCode =
  | "bad_input"
  | "not_found"
  | "exists"
  | "key_malformed"
  | "key_passphrase_required"
  | "key_bad_passphrase"
  | "store_corrupt"
  | "bad_signature"
  | "wrong_chat"
  | "seq_gap"
  | "prev_mismatch"
  | "equivocation"
  | "seal_failed"
  | "no_node"
  | "unreachable"
  | "refused"
  | "timeout"
  | "protocol"
  | "busy"
  | "unknown_method"
  | "internal";

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
