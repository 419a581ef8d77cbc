/**
 * The pair secrets of 1:1 mail (direct_mail.ts) for a person with devices
 * (feature devagree1, node/device_sync/person_agreement.ts): which X25519
 * secret we seal a contact's mail with, and which ones mail from them may
 * come under.
 *
 *   secret = X25519(our side, their side)
 *   our side:   on a device, the person's agreement key (it holds no person
 *               key); else our key pair
 *   their side: their person agreement key (`pagree`) once heard, else the
 *               X25519 key they published, else their ed25519 key's
 *
 * So what a contact seals to alice's `pagree` opens on any of her devices,
 * and what any of them seals to bob, bob opens. A contact that never heard
 * alice's `pagree` (an older version, or no session since she linked a
 * device) seals as before, to her person key: her person key's node, which
 * publishes the agreement key, looks under both (and under its own key with
 * a contact's `pagree`); a person without devices has one secret per contact,
 * as before. Mail a device files for a contact that does not know the
 * person's `pagree` cannot be opened by that contact until they meet (then
 * the direct sync carries it).
 *
 * The tags stay HKDF outputs of the secret (direct_keys.ts): the holder sees
 * that the person's devices fetch under one tag, which it knows already from
 * their certificates (devices sign in as their person).
 */
import { type KeyPair, sharedSecretOf } from "../identity/mod.ts";
import { toHex } from "../log/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { directMailKeys } from "./direct_keys.ts";
import type { MailboxKeys } from "./mailbox_crypto.ts";

/** Keys kept per secret (recipient, window). */
const KEYS_PER_SECRET = 64;

/** The person's agreement keys as 1:1 mail sees them, read at each use. */
export interface PersonSides {
  /** Whether this node is a device of its person (it holds no person key). */
  readonly onDevice: boolean;
  /** The person's agreement pair, newest, when published (the person has devices) or handed (a device). */
  pair(): KeyPair | undefined;
  /** A contact's person agreement key, heard in its hello. */
  of(person: Uint8Array): Uint8Array | undefined;
}

/** One pair secret with a contact; `legacy` when it is the one of a node without devagree1. */
export interface PairSecret {
  readonly secret: Uint8Array;
  readonly legacy: boolean;
}

export class DirectPairs {
  readonly #keyPair: KeyPair;
  readonly #agreeKeyOf: (peer: Uint8Array) => Uint8Array | undefined;
  /** Set once the agreement key is wired (after the node is built). */
  sides: (() => PersonSides | undefined) | undefined;
  /** By secret (sharedSecretOf hands the same bytes while it caches them). */
  readonly #keys = new WeakMap<Uint8Array, Map<string, MailboxKeys>>();

  constructor(keyPair: KeyPair, agreeKeyOf?: (peer: Uint8Array) => Uint8Array | undefined) {
    this.#keyPair = keyPair;
    this.#agreeKeyOf = agreeKeyOf ?? (() => undefined);
  }

  /** Whether this node is a device (it reads no receipts: they name the person key's chain). */
  get onDevice(): boolean {
    return this.sides?.()?.onDevice ?? false;
  }

  /** What we seal mail for `peer` with; none on a device not handed the agreement key yet. */
  sealing(peer: Uint8Array): PairSecret | undefined {
    const s = this.sides?.();
    const mine = s?.onDevice ? s.pair() : this.#keyPair;
    const theirs = s?.of(peer);
    const legacy = mine === this.#keyPair && theirs === undefined;
    return mine && this.#secret(mine, peer, theirs ?? this.#agreeKeyOf(peer), legacy);
  }

  /** Every secret mail from `peer` may be sealed with, the one we seal with first. */
  opening(peer: Uint8Array): PairSecret[] {
    const s = this.sides?.();
    const first = this.sealing(peer);
    const out = first ? [first] : [];
    const mines = [s?.pair(), s?.onDevice ? undefined : this.#keyPair];
    const theirs = [s?.of(peer), this.#agreeKeyOf(peer)];
    for (const mine of mines) {
      if (!mine) continue;
      for (const [i, agree] of theirs.entries()) {
        if (i === 0 && !agree) continue;
        const got = this.#secret(mine, peer, agree, mine === this.#keyPair && i === 1);
        if (got && !out.some((o) => bytesEqual(o.secret, got.secret))) out.push(got);
      }
    }
    return out;
  }

  /** The keys of mail under `ps` to `recipient` in `window`, derived once. */
  keys(ps: PairSecret, recipient: Uint8Array, window: number): MailboxKeys {
    let m = this.#keys.get(ps.secret);
    if (!m) this.#keys.set(ps.secret, m = new Map());
    const k = `${toHex(recipient)}/${window}`;
    let mk = m.get(k);
    if (!mk) {
      if (m.size >= KEYS_PER_SECRET) m.clear();
      m.set(k, mk = directMailKeys(ps.secret, recipient, window));
    }
    return mk;
  }

  #secret(
    mine: KeyPair,
    peer: Uint8Array,
    agree: Uint8Array | undefined,
    legacy: boolean,
  ): PairSecret | undefined {
    try {
      return { secret: sharedSecretOf(mine, peer, agree), legacy };
    } catch {
      return undefined; // a key that is none (refused where it was heard): no mail under it
    }
  }
}
