/**
 * Epoch keys a device of a person holds for the person's groups (feature
 * devgroups1, node/device_sync/group_sync.ts). A group's keys are sealed to
 * its members' keys: the person's, which a device does not hold. So the
 * device holding the person key opens them and hands them over the sibling
 * session (itself authenticated by the person's certificate and encrypted),
 * and the device keeps them here, per group and epoch (`keys.handedKey`).
 * A device that is revoked gets no more: the person key's node rotates each
 * group's epoch at the removal, and the new key is handed to nobody revoked.
 */
import { keys, type Store } from "../store/mod.ts";

/**
 * On a device of a person (feature devgroups1): the person, who is the
 * member (the device signs, the person's key is in the group), and the epoch
 * keys the person key's node handed over (sealed to the person, they do not
 * open here).
 */
export interface GroupBookDevice {
  readonly person: Uint8Array;
  readonly handed: HandedKeys;
}

/** Whether a device key spoke for a person at a time (node/device_sync ContactDevices). */
export type SpeaksFor = (person: Uint8Array, key: Uint8Array, at: number) => boolean;

/** Most epoch keys kept per group (the oldest go first). */
export const MAX_HANDED_PER_GROUP = 256;

export class HandedKeys {
  readonly #kv: Deno.Kv;
  /** group id → epoch id → key, in the order taken. */
  readonly #keys = new Map<string, Map<string, Uint8Array>>();

  private constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  static async open(store: Store): Promise<HandedKeys> {
    const h = new HandedKeys(store.kv);
    for await (const e of store.kv.list<Uint8Array>({ prefix: keys.handedKeys() })) {
      const [, , id, epoch] = e.key;
      if (typeof id !== "string" || typeof epoch !== "string") continue;
      if (!(e.value instanceof Uint8Array) || e.value.length !== 32) continue;
      h.#group(id).set(epoch, e.value);
    }
    return h;
  }

  #group(id: string): Map<string, Uint8Array> {
    let m = this.#keys.get(id);
    if (!m) this.#keys.set(id, m = new Map());
    return m;
  }

  get(id: string, epoch: string): Uint8Array | undefined {
    return this.#keys.get(id)?.get(epoch);
  }

  /** Keeps the keys handed for group `id`; resolves with the epochs that were new here. */
  async take(id: string, handed: ReadonlyArray<{ epoch: string; key: Uint8Array }>) {
    const m = this.#group(id);
    const fresh: string[] = [];
    for (const { epoch, key } of handed) {
      if (key.length !== 32 || m.has(epoch)) continue;
      m.set(epoch, key);
      fresh.push(epoch);
      await this.#kv.set(keys.handedKey(id, epoch), key);
    }
    while (m.size > MAX_HANDED_PER_GROUP) {
      const oldest = m.keys().next().value!;
      m.delete(oldest);
      await this.#kv.delete(keys.handedKey(id, oldest));
    }
    return fresh;
  }
}
