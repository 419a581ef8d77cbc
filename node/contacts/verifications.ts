/**
 * Which contacts the person has verified: compared the safety number with
 * them (identity/safety_number.ts) and said so. What is kept is the number
 * itself at the moment of marking, so a verification holds only while both
 * keys are the ones compared: our own key changed (a folder restored with
 * another identity), or a name now held by another key, and the contact reads
 * as unverified again, with nothing to clean up. Numbers are computed once
 * per key (5200 rounds of SHA-512 each) and kept in memory.
 */
import { safetyNumber } from "../identity/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import { toHex } from "../wire/mod.ts";

/** What is stored per verified contact. */
interface Stored {
  readonly number: string;
  readonly at: number;
}

function isStored(v: unknown): v is Stored {
  const s = v as Stored;
  return typeof v === "object" && v !== null && typeof s.number === "string" &&
    /^\d{60}$/.test(s.number) && typeof s.at === "number";
}

export class Verifications {
  readonly #store: Store;
  readonly #me: Uint8Array;
  readonly #marked = new Map<string, Stored>();
  readonly #numbers = new Map<string, string>();

  private constructor(store: Store, me: Uint8Array) {
    this.#store = store;
    this.#me = me;
  }

  /** Loads the marks; a damaged one counts as not verified. */
  static async open(store: Store, me: Uint8Array): Promise<Verifications> {
    const v = new Verifications(store, me);
    for await (const res of store.kv.list<unknown>({ prefix: keys.verifiedAll() })) {
      const key = res.key[1];
      if (key instanceof Uint8Array && isStored(res.value)) v.#marked.set(toHex(key), res.value);
    }
    return v;
  }

  /** The 60-digit safety number of our key and `peer`'s. */
  number(peer: Uint8Array): string {
    const hex = toHex(peer);
    let n = this.#numbers.get(hex);
    if (n === undefined) {
      n = safetyNumber(this.#me, peer);
      this.#numbers.set(hex, n);
    }
    return n;
  }

  /** When `peer` was marked verified, if the mark still matches both keys; else null. */
  verifiedAt(peer: Uint8Array): number | null {
    const m = this.#marked.get(toHex(peer));
    return m && m.number === this.number(peer) ? m.at : null;
  }

  isVerified(peer: Uint8Array): boolean {
    return this.verifiedAt(peer) !== null;
  }

  /** Marks `peer` verified as of `now` (for the keys as they are now). */
  async mark(peer: Uint8Array, now: number): Promise<void> {
    const m = { number: this.number(peer), at: now };
    this.#marked.set(toHex(peer), m);
    await this.#store.kv.set(keys.verified(peer), m);
  }

  /** Drops the mark (unmarked, or the contact removed). */
  async forget(peer: Uint8Array): Promise<void> {
    this.#marked.delete(toHex(peer));
    await this.#store.kv.delete(keys.verified(peer));
  }
}
