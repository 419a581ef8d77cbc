/**
 * The person's agreement key handed to the person's devices (feature
 * devagree1, person_agreement.ts), over the sibling session (sibling_sync.ts
 * checked the other side is the person key or a device the person certified).
 *
 * The node with the person key hands each device that lists devagree1 and
 * speaks for the person now the current generation (`devsync.agree`, its
 * secret sealed to the device key, so it opens only there even if the
 * session's bytes were kept), at session up and after each removal of a
 * device (rotated). A device takes it only from the person key's node.
 */
import type { Clock } from "../clock/mod.ts";
import type { EventBus } from "../events.ts";
import { fingerprint, type KeyPair, openSealed, seal } from "../identity/mod.ts";
import { decodeB64, encodeB64, type ParamsOf, type RpcSession } from "../protocol/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import type { OwnDevices } from "./own_devices.ts";
import type { PersonAgreement } from "./person_agreement.ts";
import { DEVICE_AGREE_CONTEXT } from "../identity/mod.ts";

export interface AgreeSyncDeps {
  readonly own: OwnDevices;
  readonly clock: Clock;
  readonly bus: EventBus;
  /** This node's own key pair (a device's: what the secret is sealed to). */
  readonly keyPair: KeyPair;
  readonly agreement: PersonAgreement;
  /** On a device: a new generation was taken (contacts are told it). */
  readonly taken?: () => void;
}

export class AgreeSync {
  readonly #d: AgreeSyncDeps;
  /** Sibling sessions that list devagree1, by session. */
  readonly #attached = new Map<RpcSession, Uint8Array>();

  constructor(deps: AgreeSyncDeps) {
    this.#d = deps;
  }

  serve(rpc: RpcSession, key: Uint8Array): void {
    rpc.onClose(() => this.#attached.delete(rpc));
    rpc.handle("devsync.agree", (p) => this.#take(key, p));
  }

  /** The session with sibling `key` is kept and it lists devagree1. */
  attach(key: Uint8Array, rpc: RpcSession): void {
    if (this.#d.agreement.onDevice || rpc.closed) return;
    this.#attached.set(rpc, key);
    this.#hand(key, rpc).catch(() => {});
  }

  /** On the node with the person key, after a removal: the next generation to every device up. */
  async rotated(): Promise<void> {
    if (this.#d.agreement.onDevice) return;
    await this.#d.agreement.refresh();
    for (const [rpc, key] of this.#attached) await this.#hand(key, rpc).catch(() => {});
  }

  async #hand(key: Uint8Array, rpc: RpcSession): Promise<void> {
    // Never to a removed device, nor to the person key itself.
    if (bytesEqual(key, this.#d.own.person) || !this.#d.own.speaksAt(key, this.#d.clock.now())) {
      return;
    }
    await this.#d.agreement.refresh();
    const c = this.#d.agreement.current();
    if (!c || rpc.closed) return;
    const sealed = await seal(key, c.pair.seed, {
      context: DEVICE_AGREE_CONTEXT,
      aad: this.#d.own.person,
    });
    await rpc.request("devsync.agree", { g: c.gen, k: encodeB64(sealed) });
  }

  async #take(from: Uint8Array, p: ParamsOf<"devsync.agree">): Promise<Record<never, never>> {
    const a = this.#d.agreement;
    if (!a.onDevice || !bytesEqual(from, this.#d.own.person)) return {};
    let seed: Uint8Array;
    try {
      seed = await openSealed(this.#d.keyPair, decodeB64(p.k), {
        context: DEVICE_AGREE_CONTEXT,
        aad: this.#d.own.person,
      });
    } catch {
      return {}; // not sealed to this device: nothing to keep
    }
    if (await a.take(p.g, seed)) {
      this.#d.taken?.();
      this.#d.bus.say(
        `the person key ${fingerprint(from)} handed this device its agreement key (${p.g})`,
      );
    }
    return {};
  }
}
