/**
 * The sealing side of address records for one node: the pairwise tags it
 * shares with each contact, the copies of its own record sealed for each of
 * them, and the opening (decrypting and checking) of copies that holders
 * serve. All three are cached: a hive that moves computes them for every
 * contact at once, and several holders serve the same copy.
 */
import { RojError } from "../errors.ts";
import { createVerifier, type KeyPair, type Verifier } from "../identity/mod.ts";
import { toHex } from "../log/mod.ts";
import { decodeB64, encodeB64 } from "../protocol/mod.ts";
import { openRecord, type SignedRecord } from "./address_record.ts";
import type { KnownPeer, RecordDropReason } from "./discovery_host.ts";
import { type Pair, pairwise } from "./pairwise.ts";

/** Entries per cache before it starts afresh (bounded memory for a large anchor). */
const CACHE_SIZE = 4096;

/** A sealed copy as it travels: tag and blob in base64. */
export interface SealedItem {
  readonly t: string;
  readonly b: string;
}

/** A served copy that was not taken: whose record, who served it, and why. */
export interface DroppedCopy {
  readonly peer: KnownPeer;
  /** The holder's name. */
  readonly from: string;
  readonly reason: RecordDropReason;
  readonly seq?: number;
  /** For "old": the seq we have. */
  readonly have?: number;
  /** What failed, for the log (not for "old"). */
  readonly error?: Error;
}

/** The reason code of a record that failed to open (see openRecord and Pair.open). */
export function dropReason(err: unknown): RecordDropReason {
  if (!(err instanceof RojError)) return "malformed";
  switch (err.code) {
    case "seal_failed":
      return "undecryptable";
    case "bad_signature":
      return "bad-signature";
    case "refused":
      return "not-theirs";
    default:
      return "malformed";
  }
}

/**
 * The person agreement keys discovery seals to and opens with (feature
 * devagree1, node/device_sync/person_agreement.ts), read at each use: they
 * come after the node is built, from hellos and from the person's node.
 */
export interface PersonAgreeOf {
  /** The X25519 key a contact published (its key is in ssh-agent). @default none */
  readonly agreeKeyOf?: (them: Uint8Array) => Uint8Array | undefined;
  readonly personAgree?: () => {
    /** A contact's person agreement key, heard in its hello. */
    of(person: Uint8Array): Uint8Array | undefined;
    /** On a device: the person's agreement key pair, newest; none on the person key's node. */
    devicePair(): KeyPair | undefined;
    /** Whether this node is a device of its person (it seals no copy to contacts' persons). */
    readonly onDevice: boolean;
  } | undefined;
}

export class RecordSeals {
  readonly #self: Uint8Array;
  readonly #pair: (them: Uint8Array) => Pair;
  readonly #dropped: (d: DroppedCopy) => void;
  /** Checks record signatures synchronously, keeping the contacts' keys. */
  readonly verifier: Verifier = createVerifier();
  /** Pairwise tags (HKDF outputs, asked for often), per contact hex. */
  readonly #tags = new Map<string, { theirs: Uint8Array; ours: Uint8Array }>();
  /**
   * Our record sealed for each contact (hex), for the record of that seq: every
   * holder gets the same copy, so a move seals once per contact, not once per
   * contact and session.
   */
  readonly #copies = new Map<string, { seq: number } & SealedItem>();
  /**
   * Copies already opened, by "tag|copy" (base64, as served): opening means
   * decrypting and checking a signature. A bad copy maps to null, so it is
   * reported once.
   */
  readonly #opened = new Map<string, SignedRecord | null>();
  readonly #agree: PersonAgreeOf | undefined;
  /** Pairwise with a contact's person agreement key, for the second copy (none without devagree1). */
  readonly #toPerson: ((them: Uint8Array) => Pair) | undefined;
  /** On a device: pairwise of each agreement key generation of the person. */
  readonly #devicePairs = new WeakMap<KeyPair, (them: Uint8Array) => Pair>();

  /** `dropped` hears of each bad or old copy once. */
  constructor(
    keyPair: KeyPair,
    dropped: (d: DroppedCopy) => void,
    agree?: PersonAgreeOf,
  ) {
    this.#self = keyPair.publicKey;
    this.#pair = pairwise(keyPair, agree?.agreeKeyOf);
    this.#dropped = dropped;
    this.#agree = agree;
    const personAgree = agree?.personAgree;
    // With a contact's person agreement key (devagree1): a second secret, which her devices share.
    this.#toPerson = personAgree ? pairwise(keyPair, (them) => personAgree()?.of(them)) : undefined;
  }

  /**
   * The pair for the records `peer` publishes for us: on a device, the one of
   * the person's agreement key (contacts seal to the person, not to the device).
   */
  #theirs(peer: Uint8Array): Pair {
    const mine = this.#agree?.personAgree?.()?.devicePair();
    if (!mine) return this.#pair(peer);
    let pair = this.#devicePairs.get(mine);
    if (!pair) this.#devicePairs.set(mine, pair = pairwise(mine, this.#agree?.agreeKeyOf));
    return pair(peer);
  }

  /** The tags of the records `peer` and we publish for each other. */
  tagsOf(peer: Uint8Array): { theirs: Uint8Array; ours: Uint8Array } {
    const k = toHex(peer);
    let t = this.#tags.get(k);
    if (!t) {
      const pair = this.#pair(peer);
      t = { theirs: pair.tag(peer), ours: pair.tag(this.#self) };
      if (this.#tags.size > CACHE_SIZE) this.#tags.clear();
      this.#tags.set(k, t);
    }
    return t;
  }

  /** Their record's tag, in base64 as asked for (on a device: the one sealed to the person). */
  theirTag(peer: Uint8Array): string {
    if (this.#agree?.personAgree?.()?.devicePair()) return encodeB64(this.#theirs(peer).tag(peer));
    return encodeB64(this.tagsOf(peer).theirs);
  }

  /**
   * Our record `me` sealed for `peer`: under our pairwise tag, and, when
   * `peer` published a person agreement key and we are a person's key (not a
   * device, whose record goes to contacts itself), under the tag of that key
   * too, so `peer`'s devices open it.
   */
  copiesFor(peer: Uint8Array, me: SignedRecord): SealedItem[] {
    const first = this.copyFor(peer, me);
    const toPerson = this.#toPerson;
    const pa = this.#agree?.personAgree?.();
    if (!toPerson || !pa || pa.onDevice || !pa.of(peer)) return [first];
    const pair = toPerson(peer);
    return [first, {
      t: encodeB64(pair.tag(this.#self)),
      b: encodeB64(pair.seal(this.#self, me.packed)),
    }];
  }

  /** Our record `me`, sealed for `peer` under our tag. */
  copyFor(peer: Uint8Array, me: SignedRecord): SealedItem {
    const k = toHex(peer);
    const cached = this.#copies.get(k);
    if (cached?.seq === me.seq) return { t: cached.t, b: cached.b };
    const copy = {
      seq: me.seq,
      t: encodeB64(this.tagsOf(peer).ours),
      b: encodeB64(this.#pair(peer).seal(this.#self, me.packed)),
    };
    if (this.#copies.size > CACHE_SIZE) this.#copies.clear();
    this.#copies.set(k, copy);
    return { t: copy.t, b: copy.b };
  }

  /**
   * Opens and verifies a sealed copy of `p`'s record that `fromName` served;
   * null when it is bad. A bad copy, or one older than the record we have, is
   * reported with its reason once (holders keep a few older copies per tag).
   */
  async open(p: KnownPeer, item: SealedItem, fromName: string): Promise<SignedRecord | null> {
    const key = `${item.t}|${item.b}`;
    const seen = this.#opened.get(key);
    if (seen !== undefined) return seen;
    let rec: SignedRecord | null;
    try {
      rec = await openRecord(
        this.#theirs(p.publicKey).open(p.publicKey, decodeB64(item.b)),
        p.publicKey,
        this.verifier,
      );
      if (rec.seq < p.recordSeq) {
        this.#dropped({ peer: p, from: fromName, reason: "old", seq: rec.seq, have: p.recordSeq });
      }
    } catch (err) {
      this.#dropped({ peer: p, from: fromName, reason: dropReason(err), error: err as Error });
      rec = null;
    }
    if (this.#opened.size >= CACHE_SIZE) this.#opened.clear();
    this.#opened.set(key, rec);
    return rec;
  }
}
