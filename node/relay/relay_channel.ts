/** The SSH subsystem a relayed channel is opened as: the relay prefix (identity/labels.ts) and a token pairing the two sides. */
import { RELAY_SUBSYSTEM_PREFIX } from "../identity/mod.ts";

/** A relayed channel's subsystem name; group 1 is the token. */
export const CHANNEL = new RegExp(`^${RELAY_SUBSYSTEM_PREFIX}([0-9a-f]{32})$`);

/** The subsystem to open for the splice named by `token` (32 hex digits). */
export function relayChannel(token: string): string {
  return `${RELAY_SUBSYSTEM_PREFIX}${token}`;
}
