/**
 * The person's own devices, as this node knows them: the book (devices/
 * device_book.ts) of every device certificate and revocation of our person.
 *
 * - On the node that holds the person key: what it certified and revoked
 *   (linking/link_service.ts keeps them under `ownDevices`), read again
 *   whenever it links or removes one (`reload`).
 * - On a device: its own certificate, every sibling's that checked out in a
 *   hello (`learn`), and the revocations siblings hand it (`revoke`), kept in
 *   the store as a contact keeps another person's (`seenDevice`,
 *   `seenRevocation`, under our own person's key).
 */
import type { Clock } from "../clock/mod.ts";
import {
  addCertificate,
  addRevocation,
  checkDeviceCertificate,
  type DeviceBook,
  type DeviceRevocation,
  deviceStanding,
  emptyDeviceBook,
  helloCertificate,
  parseRevocation,
  speaksForPerson,
} from "../devices/mod.ts";
import {
  type Certificate,
  parseCertificate,
  parseSshsig,
  sshsigNamesCertificate,
} from "../identity/mod.ts";
import { decodeEntry, type RawEntry } from "../log/mod.ts";
import { keys } from "../store/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";

/** What a session's chat sync asks of a contact's devices (chats/session_syncs.ts `devices`). */
export interface ContactDevices {
  keys(person: Uint8Array): Uint8Array[];
  speaksAt(person: Uint8Array, key: Uint8Array, at: number): boolean;
  learn(person: Uint8Array, raws: readonly RawEntry[]): Promise<void>;
}

/**
 * Whether a pushed entry counts: by one of `always` (the chat's people and
 * this node), or by a key that spoke for its person at the entry's own time
 * (`speaksAt`: a device, valid then, not revoked by then). An entry that does
 * not decode counts here: the merge refuses it with its reason.
 */
export function admitsEntry(
  signed: Uint8Array,
  always: readonly (Uint8Array | undefined)[],
  speaksAt: (key: Uint8Array, at: number) => boolean,
): boolean {
  let e: { author: Uint8Array; ts: number };
  try {
    e = decodeEntry(signed);
  } catch {
    return true;
  }
  if (always.some((k) => k !== undefined && bytesEqual(k, e.author))) return true;
  return speaksAt(e.author, e.ts);
}

/** New device certificates looked at per push (each costs a signature check). */
export const MAX_LEARNT_PER_PUSH = 4;

/**
 * The device certificates a push's entries carry in their SSHSIG (a device
 * signs with its certificate, linking/certified_signer.ts), each for the
 * entry's own author, with the entry's time; one per author, at most
 * MAX_LEARNT_PER_PUSH whose author `known` does not know yet.
 */
export function entryCertificates(
  raws: readonly RawEntry[],
  known: (key: Uint8Array) => boolean,
): { cert: Certificate; at: number }[] {
  const out = new Map<string, { cert: Certificate; at: number }>();
  for (const r of raws) {
    if (out.size >= MAX_LEARNT_PER_PUSH) break;
    // Most entries are signed by a plain key: skip those before decoding the entry.
    if (!sshsigNamesCertificate(r.sig)) continue;
    try {
      const e = decodeEntry(r.signed);
      const k = toHex(e.author);
      if (out.has(k) || known(e.author)) continue;
      const cert = parseSshsig(r.sig).certificate;
      if (cert && bytesEqual(cert.publicKey, e.author)) out.set(k, { cert, at: e.ts });
    } catch { /* the merge refuses it with its reason */ }
  }
  return [...out.values()];
}

/**
 * A contact's devices and ours, for a direct chat's sync with the contact:
 * entries by our own devices (another of ours wrote them, and the contact
 * hands them on) count as the contact's devices' do, by our own book.
 */
export function withOwnDevices(
  own: OwnDevices,
  theirs: () => {
    deviceKeys(person: Uint8Array): Uint8Array[];
    speaksAt(person: Uint8Array, key: Uint8Array, at: number): boolean;
    learn(person: Uint8Array, cert: Certificate, at: number): Promise<void>;
  },
): ContactDevices {
  return {
    async learn(person, raws) {
      const known = (k: Uint8Array) =>
        bytesEqual(k, person) || own.has(k) ||
        theirs().deviceKeys(person).some((d) => bytesEqual(d, k));
      for (const { cert, at } of entryCertificates(raws, known)) {
        if (bytesEqual(cert.caKey, own.person)) await own.learn(cert, at);
        else await theirs().learn(person, cert, at);
      }
    },
    keys: (person) => [...theirs().deviceKeys(person), ...own.keys()],
    speaksAt: (person, key, at) =>
      own.has(key) ? own.speaksAt(key, at) : theirs().speaksAt(person, key, at),
  };
}

export class OwnDevices {
  readonly person: Uint8Array;
  readonly #kv: Deno.Kv;
  readonly #clock: Clock;
  readonly #self?: Certificate;
  #book: DeviceBook;
  /** Every revocation held, signed by the person key (to hand to siblings). */
  #revocations: Uint8Array[] = [];

  private constructor(kv: Deno.Kv, clock: Clock, person: Uint8Array, self?: Certificate) {
    this.#kv = kv;
    this.#clock = clock;
    this.person = person;
    if (self) this.#self = self;
    this.#book = emptyDeviceBook(person);
  }

  /** `self`: on a device, its own certificate (none on the person key's node). */
  static async open(
    kv: Deno.Kv,
    clock: Clock,
    person: Uint8Array,
    self?: Certificate,
  ): Promise<OwnDevices> {
    const own = new OwnDevices(kv, clock, person, self);
    await own.reload();
    return own;
  }

  /** Reads the book again from the store (after a device was linked or removed here). */
  async reload(): Promise<void> {
    let book = emptyDeviceBook(this.person);
    const revocations: Uint8Array[] = [];
    if (this.#self) book = addCertificate(book, this.#self);
    for await (
      const e of this.#kv.list<{ certificate: Uint8Array; revocation?: Uint8Array }>({
        prefix: keys.ownDevices(),
      })
    ) {
      try {
        book = addCertificate(book, parseCertificate(e.value.certificate));
        if (e.value.revocation) {
          book = addRevocation(book, await parseRevocation(e.value.revocation, this.person));
          revocations.push(e.value.revocation);
        }
      } catch { /* a damaged record names no device */ }
    }
    for await (
      const e of this.#kv.list<Uint8Array>({ prefix: [...keys.seenDevices(), this.person] })
    ) {
      try {
        book = addCertificate(book, parseCertificate(e.value));
      } catch { /* as above */ }
    }
    for await (
      const e of this.#kv.list<Uint8Array>({ prefix: [...keys.seenRevocations(), this.person] })
    ) {
      try {
        book = addRevocation(book, await parseRevocation(e.value, this.person));
        revocations.push(e.value);
      } catch { /* a damaged record revokes nothing */ }
    }
    this.#book = book;
    this.#revocations = revocations;
  }

  /** The keys of the person's devices known here (revoked ones too: refused by speaksAt). */
  keys(): Uint8Array[] {
    return [...this.#book.devices.values()].map((r) => r.key);
  }

  /** Whether `key` is the person's or one of their devices known here (revoked or not). */
  has(key: Uint8Array): boolean {
    return bytesEqual(key, this.person) || this.#book.devices.has(toHex(key));
  }

  /** Whether `key` spoke for our person at `at` (ms): the person key, or a valid, unrevoked device. */
  speaksAt(key: Uint8Array, at: number): boolean {
    return speaksForPerson(this.#book, key, at);
  }

  /** Whether `key`'s device was removed by `at` (ms); an expired one is not (it may be renewed). */
  revokedAt(key: Uint8Array, at: number): boolean {
    return deviceStanding(this.#book, key, at) === "revoked";
  }

  /** The certificate known here of our person's device `key`, if any. */
  certificate(key: Uint8Array): Certificate | undefined {
    return this.#book.devices.get(toHex(key))?.certificate;
  }

  /** The book itself (`roj devices` on a device lists its siblings from it: sibling_rows.ts). */
  book(): DeviceBook {
    return this.#book;
  }

  /** The signed revocations held here, to hand on. */
  revocations(): readonly Uint8Array[] {
    return this.#revocations;
  }

  /**
   * Whether the key that logged in (or answered as host) is one of our
   * person's now: the person key itself, or a device whose certificate (from
   * its hello, base64) is the person's, for that key, valid now and not
   * revoked. Null when it is; otherwise why not. A good certificate is kept.
   */
  async check(key: Uint8Array, certB64: string | undefined): Promise<string | null> {
    if (bytesEqual(key, this.person)) return null;
    const now = this.#clock.now();
    const cert = await helloCertificate(this.person, key, certB64, now);
    if (typeof cert === "string") return cert;
    const before = this.#book;
    this.#book = addCertificate(this.#book, cert);
    if (!speaksForPerson(this.#book, key, now)) return "the device is revoked";
    if (this.#book !== before) await this.#kv.set(keys.seenDevice(this.person, key), cert.blob);
    return null;
  }

  /** Takes in a certificate an entry carries, if it made its key our person's at `at` (the entry's time). */
  async learn(cert: Certificate, at: number): Promise<void> {
    if (this.#book.devices.get(toHex(cert.publicKey))?.certificate) return;
    if ((await checkDeviceCertificate(cert, this.person, at)) !== null) return;
    this.#book = addCertificate(this.#book, cert);
    await this.#kv.set(keys.seenDevice(this.person, cert.publicKey), cert.blob);
  }

  /** Takes a revocation of one of our person's devices; null when it was no news. */
  async revoke(bytes: Uint8Array): Promise<DeviceRevocation | null> {
    const rev = await parseRevocation(bytes, this.person);
    const after = addRevocation(this.#book, rev);
    if (after === this.#book) return null;
    this.#book = after;
    this.#revocations = [...this.#revocations, bytes];
    await this.#kv.set(keys.seenRevocation(this.person, rev.device), bytes);
    return rev;
  }
}
