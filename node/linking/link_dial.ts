/**
 * Dialling the person key's node as a device of its own (SSH user
 * LINK_USER, its own key): to be linked (join.ts) and, later, to fetch a
 * renewed certificate (renewals.ts). The host key must be the one the link
 * code named.
 */
import type { Clock } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import type { KeyPair } from "../identity/mod.ts";
import {
  DEVLINK_CONFIRM_FEATURE,
  DEVLINK_FEATURE,
  type Hello,
  RpcSession,
} from "../protocol/mod.ts";
import { keys } from "../store/mod.ts";
import { dialSsh, parseEndpoint } from "../transport/mod.ts";

/** The linking node of a joined folder: its key and addresses, from the link code (join.ts). */
export const LINKED_BY = keys.setting("linkedBy");

/** The SSH user name a new device logs in with to be linked (and to fetch a renewal). */
export const LINK_USER = "devlink";

/** A session with the linking node; `close` ends it and its connection. */
export interface LinkingSession {
  readonly rpc: RpcSession;
  readonly hello: Hello;
  close(): void;
}

/**
 * Dials `address` expecting `linking` as its host key, and says hello as `name`.
 * @throws {RojError} unreachable, timeout, host_key_mismatch; refused when it does not link devices
 */
export async function dialLinking(
  keyPair: KeyPair,
  address: string,
  linking: Uint8Array,
  name: string,
  clock: Clock,
  timeoutMs = 5000,
): Promise<LinkingSession> {
  const client = await dialSsh({
    keyPair,
    to: parseEndpoint(address),
    expectedKey: linking,
    expectedName: "the device that made this link code",
    username: LINK_USER,
    timeoutMs,
    clock,
  });
  try {
    const rpc = new RpcSession(await client.openRoj(), {
      hello: { features: [DEVLINK_CONFIRM_FEATURE], name },
      clock,
    });
    const hello = await rpc.ready;
    if (!hello.features.includes(DEVLINK_FEATURE)) {
      throw new RojError("refused", "the device that made this code does not link devices");
    }
    return {
      rpc,
      hello,
      close: () => {
        rpc.close("done");
        client.close();
      },
    };
  } catch (err) {
    client.close();
    throw err;
  }
}
