/**
 * The exit status of every failure, so that a script can tell "I called it
 * wrong" from "nobody is running" from "try again later" without reading the
 * message. The stable part is this table; messages may be reworded.
 *
 *   0   success
 *   1   the command ran and failed (not found, exists, a bad key or store, bad data from a peer, …)
 *   2   usage: the command line or an argument is wrong (usage, bad_input)
 *   3   no node is running in the data folder (no_node)
 *   4   could not get through now, try again later (unreachable, timeout, busy)
 *   5   refused: by a peer, the node or the system (refused; permission denied)
 *   70  internal error: a bug (internal)
 */
import type { RojErrorCode } from "../node/mod.ts";

/** Exit statuses by meaning. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  noNode: 3,
  unreachable: 4,
  refused: 5,
  internal: 70,
} as const;

/** The exit status of each error code; the compiler checks that every code has one. */
export const EXIT_CODES: Readonly<Record<RojErrorCode, number>> = {
  usage: EXIT.usage,
  // bad_input from the node is about what the command passed it (a name, an invite, an address).
  bad_input: EXIT.usage,
  no_node: EXIT.noNode,
  unreachable: EXIT.unreachable,
  timeout: EXIT.unreachable,
  // Retryable like the two above: the peer or node is there but overloaded.
  busy: EXIT.unreachable,
  refused: EXIT.refused,
  identity_conflict: EXIT.refused,
  internal: EXIT.internal,
  not_found: EXIT.failed,
  exists: EXIT.failed,
  key_malformed: EXIT.failed,
  key_passphrase_required: EXIT.failed,
  key_bad_passphrase: EXIT.failed,
  store_corrupt: EXIT.failed,
  bad_signature: EXIT.failed,
  wrong_chat: EXIT.failed,
  seq_gap: EXIT.failed,
  prev_mismatch: EXIT.failed,
  equivocation: EXIT.failed,
  seal_failed: EXIT.failed,
  protocol: EXIT.failed,
  unknown_method: EXIT.failed,
  // The node will not sign while its ssh-agent is gone: a write is refused, reads go on.
  agent_unavailable: EXIT.refused,
  key_unsupported: EXIT.failed,
};

/** The exit status for a failure with `code`. */
export function exitCodeOf(code: RojErrorCode): number {
  return EXIT_CODES[code];
}
