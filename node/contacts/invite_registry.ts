/** The invites this node issued, so each is used at most as often as allowed. */
import { type Clock, systemClock } from "../clock/mod.ts";
import { keys, type Store } from "../store/mod.ts";

interface IssuedInvite {
  expires: number;
  usesLeft: number;
}

function isIssued(v: unknown): v is IssuedInvite {
  const i = v as IssuedInvite;
  return typeof v === "object" && v !== null && Number.isSafeInteger(i.expires) &&
    Number.isSafeInteger(i.usesLeft);
}

export class InviteRegistry {
  readonly #store: Store;
  readonly #clock: Clock;
  /** Nonces known valid right now; authentication asks synchronously. */
  readonly #live = new Map<string, IssuedInvite>();

  private constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /**
   * Loads the invites still usable at `now`.
   * @param clock dates the store's clean-up of expired invites. @default systemClock
   */
  static async open(
    store: Store,
    now: number,
    clock: Clock = systemClock,
  ): Promise<InviteRegistry> {
    const reg = new InviteRegistry(store, clock);
    for await (const res of store.kv.list<unknown>({ prefix: ["invite"] })) {
      const nonce = res.key[1];
      if (typeof nonce !== "string" || !isIssued(res.value)) continue;
      if (res.value.expires > now && res.value.usesLeft > 0) reg.#live.set(nonce, res.value);
    }
    return reg;
  }

  /** Records an invite, usable `uses` times until `expires` (ms). */
  async issue(nonceHex: string, expires: number, uses: number): Promise<void> {
    const v = { expires, usesLeft: uses };
    // Expired invites clean themselves up in the store.
    await this.#store.kv.set(keys.invite(nonceHex), v, {
      expireIn: Math.max(1, expires - this.#clock.now()) + 86_400_000,
    });
    this.#live.set(nonceHex, v);
  }

  /** Whether the nonce names an invite that may still be used. */
  isValid(nonceHex: string, now: number): boolean {
    const v = this.#live.get(nonceHex);
    return v !== undefined && v.expires > now && v.usesLeft > 0;
  }

  /** Uses the invite once; false if it can no longer be used. */
  async consume(nonceHex: string, now: number): Promise<boolean> {
    const res = await this.#store.kv.get<unknown>(keys.invite(nonceHex));
    if (!isIssued(res.value) || res.value.expires <= now || res.value.usesLeft <= 0) {
      this.#live.delete(nonceHex);
      return false;
    }
    const next = { ...res.value, usesLeft: res.value.usesLeft - 1 };
    const ok = await this.#store.kv.atomic().check(res).set(keys.invite(nonceHex), next).commit();
    if (!ok.ok) return false;
    if (next.usesLeft > 0) this.#live.set(nonceHex, next);
    else this.#live.delete(nonceHex);
    return true;
  }
}
