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
 * Receipts (direct_keys.ts) name one chain: the contact leaves the one for
 * the person key's chain under the person's keys, as before, and the one for
 * a device's chain under keys whose recipient is that device's key, which
 * only that device looks under (the person key's node reads no other's).
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

/** A tag a contact's mail to us may be filed under, and where a cursor counts its boxes. */
export interface InboxTag {
  readonly w: number;
  readonly mk: MailboxKeys;
  /** The cursor's slot: as before devagree1 (the window) for the old secret. */
  readonly at: string;
  /** Entries are taken from it (the person's tags). */
  readonly entries: boolean;
  /** Receipts are read from it: ones that name our own chain. */
  readonly receipts: boolean;
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

  /**
   * The tags of `peer`'s mail to us in `windows`: to `person`, and on a
   * device (`me` not the person) to `me`, for the receipts of its chain.
   */
  inbox(peer: Uint8Array, person: Uint8Array, me: Uint8Array, windows: number[]): InboxTag[] {
    const device = !bytesEqual(person, me);
    const out: InboxTag[] = [];
    const secrets = this.opening(peer);
    // Oldest window first: its entries come before the next one's.
    for (const w of windows) {
      for (const ps of secrets) {
        const mk = this.keys(ps, person, w);
        const at = ps.legacy ? String(w) : `${w}/${mk.tag.slice(0, 8)}`;
        out.push({ w, mk, at, entries: true, receipts: !device });
        if (!device) continue;
        const rk = this.keys(ps, me, w);
        out.push({ w, mk: rk, at: `${w}/${rk.tag.slice(0, 8)}`, entries: false, receipts: true });
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
