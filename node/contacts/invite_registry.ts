/**
 * The invites this node's person issued, so each is used at most as often as
 * allowed: those issued here, and those a sibling device handed over
 * (device_sync/invite_sync.ts, `merge`). Each change is told to `onChange`
 * listeners, so the person's other devices hear of it. Each remembers the
 * device that issued it (`by`), so that once that device is revoked its
 * invites are refused and withdrawn on every device (invite_sync.ts).
 */
import { type Clock, systemClock } from "../clock/mod.ts";
import { keys, type Store } from "../store/mod.ts";

/** An issued invite as the person's devices hand it around. */
export interface IssuedInviteRecord {
  readonly nonce: string;
  readonly expires: number;
  readonly usesLeft: number;
  /** The device key (hex) that issued it; none when the person key's node did, or not known. */
  readonly by?: string;
}

interface IssuedInvite {
  expires: number;
  usesLeft: number;
  by?: string;
}

const KEY_HEX = /^[0-9a-f]{64}$/;

function isIssued(v: unknown): v is IssuedInvite {
  const i = v as IssuedInvite;
  return typeof v === "object" && v !== null && Number.isSafeInteger(i.expires) &&
    Number.isSafeInteger(i.usesLeft) && (i.by === undefined || KEY_HEX.test(i.by));
}

const record = (nonce: string, v: IssuedInvite): IssuedInviteRecord => ({
  nonce,
  expires: v.expires,
  usesLeft: v.usesLeft,
  ...(v.by !== undefined ? { by: v.by } : {}),
});

export class InviteRegistry {
  readonly #store: Store;
  readonly #clock: Clock;
  /** Nonces known valid right now; authentication asks synchronously. */
  readonly #live = new Map<string, IssuedInvite>();
  readonly #listeners = new Set<(r: IssuedInviteRecord) => void>();
  /** Whether an issuing device (key hex) is revoked: its invites are refused (refuseRevoked). */
  #revoked: (by: string) => boolean = () => false;

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

  /** Records an invite, usable `uses` times until `expires` (ms), issued by device `by` (key hex). */
  async issue(nonceHex: string, expires: number, uses: number, by?: string): Promise<void> {
    const v = { expires, usesLeft: uses, ...(by !== undefined ? { by } : {}) };
    await this.#put(nonceHex, v);
    this.#changed(nonceHex, v);
  }

  /** Calls `listener` after each change of an invite here (issued, used, withdrawn, merged). */
  onChange(listener: (r: IssuedInviteRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The invites still usable at `now`. */
  live(now: number): IssuedInviteRecord[] {
    return [...this.#live].filter(([, v]) => v.expires > now && v.usesLeft > 0)
      .map(([nonce, v]) => record(nonce, v));
  }

  /**
   * From now on, an invite whose issuing device `revoked` says is revoked is
   * refused at once (before withdrawRevoked has run).
   */
  refuseRevoked(revoked: (by: string) => boolean): void {
    this.#revoked = revoked;
  }

  /** Withdraws every usable invite a revoked device issued; how many there were. */
  async withdrawRevoked(now: number): Promise<number> {
    let n = 0;
    for (const [nonce, v] of [...this.#live]) {
      if (v.by === undefined || !this.#revoked(v.by)) continue;
      if (await this.merge({ nonce, expires: v.expires, usesLeft: 0 }, now)) n++;
    }
    return n;
  }

  /**
   * Every invite record the store still holds, used up or withdrawn ones too
   * (kept a day past their end), so a sibling that was away learns of a use.
   */
  async records(): Promise<IssuedInviteRecord[]> {
    const out: IssuedInviteRecord[] = [];
    for await (const res of this.#store.kv.list<unknown>({ prefix: ["invite"] })) {
      const nonce = res.key[1];
      if (typeof nonce === "string" && isIssued(res.value)) out.push(record(nonce, res.value));
    }
    return out;
  }

  /** Withdraws an invite: no use is left. False when none such is usable. */
  withdraw(nonceHex: string, now: number): Promise<boolean> {
    const v = this.#live.get(nonceHex);
    if (!v || !this.#usable(v, now)) return Promise.resolve(false);
    return this.merge({ nonce: nonceHex, expires: v.expires, usesLeft: 0 }, now);
  }

  /**
   * Takes a sibling device's record of an invite: the fewer uses left and the
   * earlier end win, so every device ends with what the most used one holds;
   * the issuer, once known, is kept. True when it changed ours.
   */
  async merge(r: IssuedInviteRecord, now: number): Promise<boolean> {
    for (let tries = 0; tries < 8; tries++) {
      const res = await this.#store.kv.get<unknown>(keys.invite(r.nonce));
      const had = isIssued(res.value) ? res.value : undefined;
      if (!had && (r.expires <= now || r.usesLeft <= 0)) return false; // nothing to learn
      const by = had?.by ?? (r.by !== undefined && KEY_HEX.test(r.by) ? r.by : undefined);
      const next: IssuedInvite = {
        expires: had ? Math.min(had.expires, r.expires) : r.expires,
        usesLeft: had ? Math.min(had.usesLeft, r.usesLeft) : r.usesLeft,
        ...(by !== undefined ? { by } : {}),
      };
      if (
        had && next.expires === had.expires && next.usesLeft === had.usesLeft && by === had.by
      ) return false;
      const ok = await this.#store.kv.atomic().check(res).set(keys.invite(r.nonce), next, {
        expireIn: this.#expireIn(next.expires),
      }).commit();
      if (!ok.ok) continue;
      this.#keepLive(r.nonce, next, now);
      this.#changed(r.nonce, next);
      return true;
    }
    return false;
  }

  async #put(nonceHex: string, v: IssuedInvite): Promise<void> {
    await this.#store.kv.set(keys.invite(nonceHex), v, { expireIn: this.#expireIn(v.expires) });
    this.#live.set(nonceHex, v);
  }

  /** Expired invites clean themselves up in the store, a day after their end. */
  #expireIn(expires: number): number {
    return Math.max(1, expires - this.#clock.now()) + 86_400_000;
  }

  #keepLive(nonceHex: string, v: IssuedInvite, now: number): void {
    if (v.expires > now && v.usesLeft > 0) this.#live.set(nonceHex, v);
    else this.#live.delete(nonceHex);
  }

  #changed(nonce: string, v: IssuedInvite): void {
    for (const l of this.#listeners) {
      try {
        l(record(nonce, v));
      } catch { /* a listener's failure is its own */ }
    }
  }

  /** Whether the nonce names an invite that may still be used. */
  isValid(nonceHex: string, now: number): boolean {
    const v = this.#live.get(nonceHex);
    return v !== undefined && this.#usable(v, now);
  }

  #usable(v: IssuedInvite, now: number): boolean {
    return v.expires > now && v.usesLeft > 0 && (v.by === undefined || !this.#revoked(v.by));
  }

  /** Uses the invite once; false if it can no longer be used. */
  async consume(nonceHex: string, now: number): Promise<boolean> {
    const res = await this.#store.kv.get<unknown>(keys.invite(nonceHex));
    if (!isIssued(res.value) || res.value.expires <= now || res.value.usesLeft <= 0) {
      this.#live.delete(nonceHex);
      return false;
    }
    if (!this.#usable(res.value, now)) return false; // its device revoked: withdrawRevoked ends it
    const next = { ...res.value, usesLeft: res.value.usesLeft - 1 };
    // Its clean-up date kept: a set without one would keep a used-up invite for good.
    const ok = await this.#store.kv.atomic().check(res).set(keys.invite(nonceHex), next, {
      expireIn: this.#expireIn(next.expires),
    }).commit();
    if (!ok.ok) return false;
    this.#keepLive(nonceHex, next, now);
    this.#changed(nonceHex, next);
    return true;
  }
}
