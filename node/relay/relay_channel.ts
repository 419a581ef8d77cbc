/** The SSH subsystem a relayed channel is opened as: "roj-relay-<token>", the token pairing the two sides. */

/** A relayed channel's subsystem name; group 1 is the token. */
export const CHANNEL = /^roj-relay-([0-9a-f]{32})$/;

/** The subsystem to open for the splice named by `token` (32 hex digits). */
export function relayChannel(token: string): string {
  return `roj-relay-${token}`;
}
