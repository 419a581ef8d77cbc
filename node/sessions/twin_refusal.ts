/**
 * Refusing a contact's session that comes from a second node on one key
 * (identity_guard/twin_sessions.ts decides): the session up stays, the
 * newcomer is closed, both are told (`identity.elsewhere`, to a peer that
 * lists own-chain), and the person hears of it once a minute per key.
 */
import type { Clock } from "../clock/mod.ts";
import type { Contact } from "../contacts/mod.ts";
import type { EventBus } from "../events.ts";
import { fingerprint } from "../identity/mod.ts";
import { TwinSessions } from "../identity_guard/mod.ts";
import { OWN_CHAIN_FEATURE, peerHas, type RpcSession } from "../protocol/mod.ts";
import type { SshClient } from "../transport/mod.ts";
import { toHex } from "../wire/mod.ts";

/** How often the twin sessions of one key are said, at most. */
const SAY_EVERY_MS = 60_000;

export class TwinRefusal {
  readonly #clock: Clock;
  readonly #bus: EventBus;
  readonly #twins = new TwinSessions();
  /** Keys (hex) whose twin sessions were said, and when. */
  readonly #said = new Map<string, number>();

  constructor(clock: Clock, bus: EventBus) {
    this.#clock = clock;
    this.#bus = bus;
  }

  /**
   * Whether `rpc`, from `key` of `contact` (the contact's own, or a device's),
   * comes from another node than `live`, that key's session up: then it is
   * refused as above and true returned.
   */
  refused(
    contact: Contact,
    key: Uint8Array,
    rpc: RpcSession,
    live: RpcSession | undefined,
    client?: SshClient,
  ): boolean {
    const now = this.#clock.now();
    const k = toHex(key);
    const upInstance = live && !live.closed ? live.peerHello?.i : undefined;
    if (!this.#twins.judge(k, rpc.peerHello?.i, upInstance, now)) return false;
    const tell = (to: RpcSession, kept: boolean) =>
      peerHas(to.peerHello, OWN_CHAIN_FEATURE)
        ? to.request("identity.elsewhere", { kept }, 3000).catch(() => {})
        : Promise.resolve();
    tell(rpc, false).finally(() => {
      rpc.close("this key has a live session here from another node");
      client?.close();
    });
    tell(live!, true);
    const said = this.#said.get(k);
    if (said === undefined || now - said >= SAY_EVERY_MS) {
      this.#said.set(k, now);
      this.#bus.say(
        `${contact.name}'s key is in use on two nodes at once (a copied data folder or key?): ` +
          "keeping the session that is up, refusing the other; both are told",
      );
      this.#bus.emit({
        type: "identity",
        op: "twin-sessions",
        peer: contact.name,
        fingerprint: fingerprint(contact.publicKey),
      });
    }
    return true;
  }
}
