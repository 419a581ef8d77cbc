/**
 * A contact's devices, as this node meets them: a session whose SSH user
 * name is "dev-<person hex>" comes from a key that says it is a device of
 * that contact. Its hello must carry the device's certificate; every request
 * is held (session_manager.ts inbound) until the certificate checked out:
 * signed by the contact's key, for the key that logged in, a device
 * certificate valid now, and not revoked in the contact's device book. Then
 * the session is kept as the contact's own, exactly as if the person key had
 * dialled. Anything else closes it before a single request is served.
 *
 * The device book per contact is kept in the store (every certificate seen,
 * the one ending last per device), so a restart knows them; revocations go
 * into the same book (devices/device_book.ts), from the contact's own
 * sessions (`device.revoke`), and are kept for good.
 *
 * Not "the same identity on two nodes": a device logs in with its own key,
 * which only its certificate ties to the person; the person key's own node
 * keeps logging in as itself.
 */
import type { Clock } from "../clock/mod.ts";
import type { ContactBook } from "../contacts/mod.ts";
import {
  addCertificate,
  addRevocation,
  checkDeviceCertificate,
  type DeviceBook,
  emptyDeviceBook,
  helloCertificate,
  parseRevocation,
  speaksForPerson,
} from "../devices/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import { type Certificate, fingerprint, parseCertificate } from "../identity/mod.ts";
import { decodeB64, type RpcSession } from "../protocol/mod.ts";
import type { SessionManager } from "../sessions/mod.ts";
import { keys } from "../store/mod.ts";
import type { InboundPeer } from "../transport/mod.ts";
import { toHex } from "../wire/mod.ts";

/** The SSH user name a device of `person` logs in to the person's contacts with. */
export function deviceUser(person: Uint8Array): string {
  return `dev-${toHex(person)}`;
}

const DEVICE_USER = /^dev-([0-9a-f]{64})$/;

export interface DeviceSessionsDeps {
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly kv: Deno.Kv;
  readonly contacts: ContactBook;
  readonly sessions: SessionManager;
  /**
   * A passive anchor, which keeps no member's key at rest: certificates are
   * held in memory only (a device shows its own at each login), revocations
   * as a pair of ids (contacts.storedId), and any stored the old way are
   * converted on open. @default false
   */
  readonly blind?: boolean;
}

export class DeviceSessions {
  readonly #d: DeviceSessionsDeps;
  /** By the person's key in hex. */
  readonly #books = new Map<string, DeviceBook>();
  /** The sessions kept for each device (by its key in hex), to close on its revocation. */
  readonly #live = new Map<string, Set<RpcSession>>();
  /** Blind: revoked devices, "person id/device id" in hex. */
  readonly #revokedIds = new Set<string>();

  private constructor(d: DeviceSessionsDeps) {
    this.#d = d;
  }

  static async open(d: DeviceSessionsDeps): Promise<DeviceSessions> {
    const s = new DeviceSessions(d);
    if (d.blind) await s.#convert();
    for await (const e of d.kv.list<true>({ prefix: keys.revokedIds() })) {
      const [, , person, device] = e.key;
      if (person instanceof Uint8Array && device instanceof Uint8Array) {
        s.#revokedIds.add(`${toHex(person)}/${toHex(device)}`);
      }
    }
    for await (const e of d.kv.list<Uint8Array>({ prefix: keys.seenDevices() })) {
      const person = e.key[2];
      if (!(person instanceof Uint8Array)) continue;
      try {
        s.#take(person, parseCertificate(e.value));
      } catch {
        // A damaged record names no device.
      }
    }
    for await (const e of d.kv.list<Uint8Array>({ prefix: keys.seenRevocations() })) {
      const person = e.key[2];
      if (!(person instanceof Uint8Array)) continue;
      try {
        const rev = await parseRevocation(e.value, person);
        s.#books.set(toHex(person), addRevocation(s.book(person), rev));
      } catch {
        // A damaged record revokes nothing: the device is refused only by a good one.
      }
    }
    return s;
  }

  /** Whether this key may log in with this user name: a device of an accepted contact. */
  authorize(username: string): boolean {
    const m = DEVICE_USER.exec(username);
    if (!m) return false;
    const c = this.#d.contacts.accepted(fromHex(m[1]!));
    return c !== undefined && !c.blocked;
  }

  /** The contact's device book (empty when none of its devices came). */
  book(person: Uint8Array): DeviceBook {
    return this.#books.get(toHex(person)) ?? emptyDeviceBook(person);
  }

  /** The keys of `person`'s devices this node knows of (certified; revoked ones too, refused by speaksAt). */
  deviceKeys(person: Uint8Array): Uint8Array[] {
    return [...this.book(person).devices.values()].map((r) => r.key);
  }

  /** Whether `key` spoke for `person` at `at` (ms): a valid device certificate then, not revoked by then. */
  speaksAt(person: Uint8Array, key: Uint8Array, at: number): boolean {
    return speaksForPerson(this.book(person), key, at);
  }

  /** The contact whose device `key` is (valid now), if it is one. */
  personOf(key: Uint8Array): Uint8Array | undefined {
    const now = this.#d.clock.now();
    for (const book of this.#books.values()) {
      if (book.devices.has(toHex(key)) && speaksForPerson(book, key, now)) return book.person;
    }
    return undefined;
  }

  /**
   * What a contact's session may tell about that contact's devices:
   * `device.revoke`, the contact's own signed revocation of one of them, and
   * `device.cert`, a renewed certificate of one (devlink2), kept when it
   * checks out and ends later than the one known.
   */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    rpc.handle("device.cert", async (p) => {
      const blob = decodeB64(p.certificate);
      let cert: Certificate;
      try {
        cert = parseCertificate(blob);
      } catch (err) {
        throw new RojError("bad_input", "a malformed certificate", { cause: err });
      }
      const problem = await checkDeviceCertificate(cert, peer, this.#d.clock.now());
      if (problem !== null) throw new RojError("refused", `certificate: ${problem}`);
      const before = this.book(peer);
      this.#take(peer, cert);
      if (this.book(peer) === before) return {};
      await this.#d.kv.set(keys.seenDevice(peer, cert.publicKey), blob);
      const fp = fingerprint(cert.publicKey);
      this.#d.bus.emit({ type: "device", op: "renewed", name: cert.keyId, fingerprint: fp });
      return {};
    });
    rpc.handle("device.revoke", async (p) => {
      const mark = this.#d.sessions.personAgree?.mark() ?? 0;
      const rev = await parseRevocation(decodeB64(p.revocation), peer);
      const before = this.book(peer);
      const after = addRevocation(before, rev);
      if (after === before) return {};
      this.#books.set(toHex(peer), after);
      await this.#keepRevocation(peer, rev.device, decodeB64(p.revocation));
      const name = this.#d.contacts.get(peer)?.name ?? fingerprint(peer);
      const fp = fingerprint(rev.device);
      this.#d.bus.say(`${name} revoked their device ${fp}`);
      this.#d.bus.emit({ type: "device", op: "revoked", fingerprint: fp });
      // The removed device holds the person's agreement key we sealed to (devagree1): no more.
      await this.#d.sessions.personAgree?.revoked(peer, mark);
      // Sessions it has up end now; new ones are refused (speaksForPerson).
      for (const s of this.#live.get(toHex(rev.device)) ?? []) s.close("device revoked");
      return {};
    });
  }

  /**
   * Whether `key` is a device of `person` now, by the certificate its hello
   * carries (base64): signed by the person's key, for `key`, a device
   * certificate valid now, not revoked in the person's device book. The
   * certificate when it is (kept in the book and the store), else why not.
   */
  async vouch(
    person: Uint8Array,
    key: Uint8Array,
    certB64: string | undefined,
  ): Promise<Certificate | string> {
    const now = this.#d.clock.now();
    let cert = await helloCertificate(person, key, certB64, now);
    if (typeof cert === "string") {
      // Ended, but the person's node may have handed us its renewal (device.cert).
      const known = this.book(person).devices.get(toHex(key))?.certificate;
      const renewed = cert === "certificate: expired" && known !== undefined &&
        await checkDeviceCertificate(known, person, now) === null;
      if (!renewed) return cert;
      cert = known;
    }
    this.#take(person, cert);
    if (!speaksForPerson(this.book(person), key, now) || this.#revokedId(person, key)) {
      return "the device is revoked";
    }
    if (!this.#d.blind) await this.#d.kv.set(keys.seenDevice(person, key), cert.blob);
    return cert;
  }

  /** A session from a key that says it is a device of `personHex`: kept as theirs once its certificate checks out. */
  inbound(rpc: RpcSession, peer: InboundPeer, personHex: string, remote: string): void {
    rpc.onClose(() => peer.close());
    rpc.ready.then(async (hello) => {
      const person = fromHex(personHex);
      const contact = this.#d.contacts.accepted(person);
      if (!contact || contact.blocked) return rpc.close("not accepted");
      const fp = fingerprint(peer.publicKey);
      const refuse = (why: string) => {
        this.#d.bus.say(`refused a device of ${contact.name} (${fp}) from ${remote}: ${why}`);
        this.#d.bus.emit({ type: "device", op: "refused", fingerprint: fp, reason: why });
        rpc.close(`device refused: ${why}`);
      };
      const checked = await this.vouch(person, peer.publicKey, hello.cert);
      if (typeof checked === "string") return refuse(checked);
      const cert = checked;
      if (rpc.closed) return;
      this.#d.bus.say(`${contact.name}'s device ${cert.keyId} (${fp}) is theirs`);
      this.#d.bus.emit({ type: "device", op: "accepted", name: cert.keyId, fingerprint: fp });
      const k = toHex(peer.publicKey);
      const live = this.#live.get(k) ?? new Set();
      this.#live.set(k, live.add(rpc));
      rpc.onClose(() => {
        live.delete(rpc);
        if (live.size === 0) this.#live.delete(k);
      });
      this.#d.sessions.serve(rpc, contact.publicKey);
      this.#d.sessions.attach(contact, rpc, "in", {
        remote,
        device: peer.publicKey,
        ...(peer.via !== undefined ? { via: peer.via } : {}),
      });
    }).catch(() => rpc.close("no hello"));
  }

  #revokedId(person: Uint8Array, device: Uint8Array): boolean {
    const id = (k: Uint8Array) => toHex(this.#d.contacts.storedId(k));
    return this.#revokedIds.has(`${id(person)}/${id(device)}`);
  }

  async #keepRevocation(person: Uint8Array, device: Uint8Array, blob: Uint8Array): Promise<void> {
    if (!this.#d.blind) {
      await this.#d.kv.set(keys.seenRevocation(person, device), blob);
      return;
    }
    const [p, dev] = [this.#d.contacts.storedId(person), this.#d.contacts.storedId(device)];
    this.#revokedIds.add(`${toHex(p)}/${toHex(dev)}`);
    await this.#d.kv.set(keys.revokedId(p, dev), true);
  }

  /** Blind: certificates stored the old way go, revocations become pairs of ids. */
  async #convert(): Promise<void> {
    const kv = this.#d.kv;
    for await (const e of kv.list<Uint8Array>({ prefix: keys.seenDevices() })) {
      await kv.delete(e.key);
    }
    for await (const e of kv.list<Uint8Array>({ prefix: keys.seenRevocations() })) {
      const [, , person, device] = e.key;
      if (person instanceof Uint8Array && device instanceof Uint8Array) {
        await this.#keepRevocation(person, device, e.value);
      }
      await kv.delete(e.key);
    }
  }

  /**
   * Takes in a certificate an entry of `person`'s chat carries (node/device_sync), if it
   * made its key one of theirs at `at` (the entry's time): their entries by it count then.
   */
  async learn(person: Uint8Array, cert: Certificate, at: number): Promise<void> {
    if (this.book(person).devices.get(toHex(cert.publicKey))?.certificate) return;
    if ((await checkDeviceCertificate(cert, person, at)) !== null) return;
    this.#take(person, cert);
    if (!this.#d.blind) await this.#d.kv.set(keys.seenDevice(person, cert.publicKey), cert.blob);
  }

  #take(person: Uint8Array, cert: Certificate): void {
    this.#books.set(toHex(person), addCertificate(this.book(person), cert));
  }
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}
