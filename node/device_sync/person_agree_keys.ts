/**
 * The person agreement keys of our contacts (feature devagree1, see
 * person_agreement.ts): heard in the `pagree` of a hello on a session that
 * is that person's (the SSH login was the person key, or a device whose
 * certificate the person signed checked out before the session was kept),
 * kept in the store, and sealed to for group keys (sealTo).
 *
 * The person key's own session says which key is current: it replaces the
 * one held, and one without `pagree` (an older version) drops it. A device's
 * session is taken only when none is held (a contact who met only her
 * devices), as a device may not have heard of a later generation yet. A
 * revocation of one of the person's devices drops the key held: the removed
 * device holds it, and the person moved to the next at the removal.
 */
import { keys } from "../store/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";

export class PersonAgreeKeys {
  readonly #kv: Deno.Kv;
  readonly #keys = new Map<string, Uint8Array>();
  /** Counts keys taken, so a revocation drops only one held before it arrived (mark). */
  #taken = 0;

  private constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  static async open(kv: Deno.Kv): Promise<PersonAgreeKeys> {
    const p = new PersonAgreeKeys(kv);
    for await (const r of kv.list<Uint8Array>({ prefix: keys.personAgreeKeys() })) {
      const person = r.key[2];
      if (person instanceof Uint8Array && r.value instanceof Uint8Array && r.value.length === 32) {
        p.#keys.set(toHex(person), r.value);
      }
    }
    return p;
  }

  get(person: Uint8Array): Uint8Array | undefined {
    return this.#keys.get(toHex(person));
  }

  /**
   * A session of `person` is kept with `key` in its hello (already checked by
   * publishedAgreementKey: 32 bytes, not of low order), or none.
   */
  async heard(person: Uint8Array, key: Uint8Array | undefined, fromDevice: boolean): Promise<void> {
    const held = this.get(person);
    if (fromDevice ? held !== undefined || key === undefined : held === key) return;
    if (key !== undefined && held !== undefined && bytesEqual(key, held)) return;
    if (key === undefined) {
      this.#keys.delete(toHex(person));
      await this.#kv.delete(keys.personAgreeKey(person));
      return;
    }
    this.#taken++;
    this.#keys.set(toHex(person), key);
    await this.#kv.set(keys.personAgreeKey(person), key);
  }

  /** Where the keys stand as a revocation arrives (before it is checked). */
  mark(): number {
    return this.#taken;
  }

  /**
   * A device of `person` was revoked: its key goes (the person moved on at the
   * removal), unless a key was taken since `mark` (the next one, told while
   * the revocation was being checked: the person's node sends it after).
   */
  async revoked(person: Uint8Array, mark = this.#taken): Promise<void> {
    if (this.#taken !== mark || !this.#keys.delete(toHex(person))) return;
    await this.#kv.delete(keys.personAgreeKey(person));
  }
}
