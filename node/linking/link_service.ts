/**
 * Linking devices on the node that holds the person key: making one-time
 * link codes, certifying the key of a new device that proves a code's secret
 * (on a session whose SSH user name is "devlink", which serves nothing
 * else), and listing the devices certified here.
 *
 * Crash safety: a code is stored before its text is shown, so a restart
 * keeps it valid; a device is recorded and its code marked used in one
 * atomic commit (checked against the code's versionstamp, so two devices
 * racing with one code cannot both win), and only then is the certificate
 * sent. A kill at any moment leaves the code either open (and no device), or
 * used with the device recorded. The new device writes its folder only once
 * it holds a certificate it checked (join.ts).
 *
 * On a device (a folder made by `roj init --join`), there is no person key:
 * link codes are refused, and `devices` shows the device's own certificate.
 */
import type { DeviceView, LinkCodeView } from "../api/mod.ts";
import type { Clock } from "../clock/mod.ts";
import {
  addCertificate,
  addRevocation,
  certifyDevice,
  createLinkCode,
  defaultValidity,
  deviceStanding,
  emptyDeviceBook,
  LINK_CODE_MINUTES,
  LINK_SECRET_BYTES,
  MAX_LINK_CODE_ADDRESSES,
  renewalDueAt,
  signRevocation,
} from "../devices/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import { type Certificate, fingerprint, parseCertificate, type Signer } from "../identity/mod.ts";
import type { Contact } from "../contacts/mod.ts";
import {
  ANCHOR_FEATURE,
  DEVICES_FEATURE,
  encodeB64,
  MAX_LINK_CONTACTS,
  peerHas,
  type ResultOf,
  type RpcSession,
} from "../protocol/mod.ts";
import { keys } from "../store/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import {
  decideLink,
  isKept,
  isOpen,
  LINK_REFUSALS,
  type LinkCodeRecord,
  MAX_LINK_CODES,
} from "./link_decision.ts";

/** The SSH user name a new device logs in with to be linked. */
export const LINK_USER = "devlink";

export interface LinkServiceDeps {
  readonly me: Uint8Array;
  readonly name: string;
  readonly signer: Signer;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly kv: Deno.Kv;
  /** The addresses a new device may dial (the published ones). */
  addresses(): string[];
  /** Whether a session with this key is up. */
  online(key: Uint8Array): boolean;
  /** The contacts a new device starts with (not blocked). */
  contacts(): readonly Contact[];
  /** The live sessions, to hand a revocation to. */
  sessions(): readonly { readonly rpc: RpcSession }[];
}

/** A device certified here, as stored. */
interface OwnDevice {
  readonly certificate: Certificate;
  readonly linkedAt: number;
  /** The person's signed revocation, once removed, and from when. */
  readonly revocation?: Uint8Array;
  readonly revokedFrom?: number;
}

/** This folder is a device of a person: its person's key and its certificate. */
export interface DeviceIdentity {
  readonly person: Uint8Array;
  readonly certificate: Certificate;
}

export class LinkService {
  readonly #d: LinkServiceDeps;
  /** Codes kept, by id (mirrors the store, for `admits`, which must answer at once). */
  readonly #codes = new Map<string, LinkCodeRecord>();
  readonly #devices = new Map<string, OwnDevice>();
  readonly #self: DeviceIdentity | undefined;
  /** Links are certified one at a time. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(d: LinkServiceDeps, self: DeviceIdentity | undefined) {
    this.#d = d;
    this.#self = self;
  }

  static async open(d: LinkServiceDeps): Promise<LinkService> {
    const s = new LinkService(d, await deviceIdentity(d.kv));
    for await (const e of d.kv.list<LinkCodeRecord>({ prefix: keys.linkCodes() })) {
      s.#codes.set(e.value.id, e.value);
    }
    for await (
      const e of d.kv.list<
        { certificate: Uint8Array; linkedAt: number; revocation?: Uint8Array; revokedFrom?: number }
      >({ prefix: keys.ownDevices() })
    ) {
      const certificate = parseCertificate(e.value.certificate);
      s.#devices.set(toHex(certificate.publicKey), { ...e.value, certificate });
    }
    return s;
  }

  /** The person and certificate, when this folder is a device (not the person key's). */
  get deviceIdentity(): DeviceIdentity | undefined {
    return this.#self;
  }

  /** Whether a key may log in as LINK_USER now: while a code made here is kept. */
  admits(): boolean {
    const now = this.#d.clock.now();
    return [...this.#codes.values()].some((c) => isKept(c, now));
  }

  /**
   * A new link code, stored before it is returned.
   * @throws {RojError} refused on a device (no person key here), no_node
   * when not listening, busy with MAX_LINK_CODES open.
   */
  async link(): Promise<LinkCodeView> {
    if (this.#self) {
      throw new RojError(
        "refused",
        "this device does not hold the person key: link new devices from the one that does",
      );
    }
    const addresses = this.#d.addresses().slice(0, MAX_LINK_CODE_ADDRESSES);
    if (addresses.length === 0) {
      throw new RojError("no_node", "the node is not listening; start it with `roj run`");
    }
    const now = this.#d.clock.now();
    await this.#prune(now);
    if ([...this.#codes.values()].filter((c) => isOpen(c, now)).length >= MAX_LINK_CODES) {
      throw new RojError("busy", `${MAX_LINK_CODES} link codes are open already; use one of them`);
    }
    const record: LinkCodeRecord = {
      id: toHex(crypto.getRandomValues(new Uint8Array(16))),
      secret: crypto.getRandomValues(new Uint8Array(LINK_SECRET_BYTES)),
      made: now,
      expires: now + LINK_CODE_MINUTES * 60_000,
    };
    const text = await createLinkCode(this.#d.signer, {
      person: this.#d.me,
      addresses,
      expires: record.expires,
      secret: record.secret,
    });
    await this.#d.kv.set(keys.linkCode(record.id), record);
    this.#codes.set(record.id, record);
    this.#d.bus.say(
      `made a device link code, valid until ${new Date(record.expires).toISOString()}`,
    );
    return { text, expires: record.expires, addresses };
  }

  /** A LINK_USER session: it may ask device.link, for the key it logged in with. */
  serve(rpc: RpcSession, device: Uint8Array, remote: string): void {
    rpc.handle("device.link", (p) => {
      const run = this.#queue.then(() => this.#certify(device, p.proof, p.name, remote));
      this.#queue = run.catch(() => {});
      return run;
    });
  }

  async #certify(
    device: Uint8Array,
    proofHex: string,
    name: string,
    remote: string,
  ): Promise<ResultOf<"device.link">> {
    const now = this.#d.clock.now();
    const fp = fingerprint(device);
    const refuse = (why: string, message: string): never => {
      this.#d.bus.say(`refused to link ${fp} from ${remote}: ${message}`);
      this.#d.bus.emit({ type: "device", op: "refused", fingerprint: fp, reason: why });
      throw new RojError("refused", message);
    };
    if (this.#self) refuse("no_person_key", "this device does not hold the person key");
    const codes: { record: LinkCodeRecord; versionstamp: string }[] = [];
    for await (const e of this.#d.kv.list<LinkCodeRecord>({ prefix: keys.linkCodes() })) {
      codes.push({ record: e.value, versionstamp: e.versionstamp });
    }
    const proof = Uint8Array.from(proofHex.match(/../g)!.map((h) => parseInt(h, 16)));
    const decision = decideLink(codes.map((c) => c.record), proof, device, this.#d.me, now);
    if (!decision.ok) return refuse(decision.why, LINK_REFUSALS[decision.why]);
    if (bytesEqual(device, this.#d.me)) refuse("person_key", "the person key is not a device");
    const taken = [...this.#devices.values()].find((d) =>
      d.certificate.keyId === name && !bytesEqual(d.certificate.publicKey, device) &&
      d.revocation === undefined
    );
    if (taken) {
      refuse("name_taken", `a device named ${name} is linked already; choose another --name`);
    }
    const serial = new DataView(crypto.getRandomValues(new Uint8Array(8)).buffer).getBigUint64(0);
    const certificate = await certifyDevice(this.#d.signer, {
      deviceKey: device,
      name,
      ...defaultValidity(now),
      serial,
      nonce: crypto.getRandomValues(new Uint8Array(32)),
    });
    const code = decision.code;
    const vs = codes.find((c) => c.record.id === code.id)!.versionstamp;
    const used: LinkCodeRecord = { ...code, used: { at: now, device: device.slice() } };
    const res = await this.#d.kv.atomic()
      .check({ key: keys.linkCode(code.id), versionstamp: vs })
      .set(keys.linkCode(code.id), used)
      .set(keys.ownDevice(device), { certificate: certificate.blob, linkedAt: now })
      .commit();
    if (!res.ok) return refuse("used", LINK_REFUSALS.used);
    this.#codes.set(code.id, used);
    this.#devices.set(toHex(device), { certificate, linkedAt: now });
    this.#d.bus.say(`linked device ${name} (${fp}) from ${remote}`);
    this.#d.bus.emit({ type: "device", op: "linked", name, fingerprint: fp });
    const contacts = this.#d.contacts().filter((c) => !c.blocked).slice(0, MAX_LINK_CONTACTS)
      .map((c) => ({
        key: encodeB64(c.publicKey),
        name: c.name,
        addresses: c.addresses.filter((a) => a.length <= 300).slice(0, 4),
        anchor: c.anchor,
      }));
    return { certificate: encodeB64(certificate.blob), person: this.#d.name, contacts };
  }

  /**
   * Revokes the device named `name`: signs the revocation (from now), keeps
   * it with the device, and hands it to every contact in a session (and to
   * the others as their sessions come up, `onSession`).
   * @throws {RojError} refused on a device, not_found for an unknown or removed name
   */
  async remove(name: string): Promise<DeviceView> {
    if (this.#self) {
      throw new RojError(
        "refused",
        "this device does not hold the person key: remove devices from the one that does",
      );
    }
    const own = [...this.#devices.values()].find((d) =>
      d.certificate.keyId === name && d.revocation === undefined
    );
    if (!own) throw new RojError("not_found", `no linked device named ${name}`);
    const device = own.certificate.publicKey;
    const from = this.#d.clock.now();
    const revocation = await signRevocation(this.#d.signer, { device, from, reason: "removed" });
    const updated: OwnDevice = { ...own, revocation, revokedFrom: from };
    await this.#d.kv.set(keys.ownDevice(device), { ...updated, certificate: own.certificate.blob });
    this.#devices.set(toHex(device), updated);
    const fp = fingerprint(device);
    this.#d.bus.say(`removed device ${name} (${fp}): contacts refuse it from now on`);
    this.#d.bus.emit({ type: "device", op: "revoked", name, fingerprint: fp });
    for (const s of this.#d.sessions()) this.#hand(s.rpc, [revocation]);
    return this.devices().find((d) => d.fingerprint === fp)!;
  }

  /** A contact's session came up: hand it every revocation made here. */
  onSession(rpc: RpcSession): void {
    const revocations = [...this.#devices.values()].flatMap((d) => d.revocation ?? []);
    if (revocations.length > 0) this.#hand(rpc, revocations);
  }

  #hand(rpc: RpcSession, revocations: readonly Uint8Array[]): void {
    // An anchor takes a member's devices too (it serves device.revoke, though it lists no `devices`).
    if (!peerHas(rpc.peerHello, DEVICES_FEATURE) && !peerHas(rpc.peerHello, ANCHOR_FEATURE)) return;
    for (const r of revocations) {
      rpc.request("device.revoke", { revocation: encodeB64(r) }).catch(() => {});
    }
  }

  /** The devices certified here (or this device's own), by name. */
  devices(): DeviceView[] {
    const now = this.#d.clock.now();
    const own = this.#self ? [this.#self.certificate] : [];
    let book = emptyDeviceBook(this.#self?.person ?? this.#d.me);
    for (const c of [...own, ...[...this.#devices.values()].map((d) => d.certificate)]) {
      book = addCertificate(book, c);
    }
    for (const d of this.#devices.values()) {
      if (d.revokedFrom === undefined) continue;
      book = addRevocation(book, {
        person: this.#d.me,
        device: d.certificate.publicKey,
        from: d.revokedFrom,
        reason: "removed",
      });
    }
    const rows = [...book.devices.values()].map((rec): DeviceView => {
      const cert = rec.certificate!;
      const validUntil = Number.isFinite(cert.validBefore) ? cert.validBefore * 1000 : null;
      const standing = deviceStanding(book, rec.key, now);
      const self = bytesEqual(rec.key, this.#d.me);
      return {
        name: cert.keyId,
        fingerprint: fingerprint(rec.key),
        certifiedSince: this.#devices.get(toHex(rec.key))?.linkedAt ?? cert.validAfter * 1000,
        validUntil,
        standing,
        renewalDue: standing === "valid" && validUntil !== null && now >= renewalDueAt(validUntil),
        online: !self && this.#d.online(rec.key),
        self,
      };
    });
    return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Drops codes past their keeping time. */
  async #prune(now: number): Promise<void> {
    for (const [id, c] of this.#codes) {
      if (isKept(c, now)) continue;
      await this.#d.kv.delete(keys.linkCode(id));
      this.#codes.delete(id);
    }
  }
}

/** The device identity a joined folder's store records, if it is one. */
export async function deviceIdentity(kv: Deno.Kv): Promise<DeviceIdentity | undefined> {
  const [person, cert] = await kv.getMany<unknown[]>([
    keys.setting("devicePerson"),
    keys.setting("deviceCertificate"),
  ]);
  if (!(person!.value instanceof Uint8Array) || !(cert!.value instanceof Uint8Array)) {
    return undefined;
  }
  return { person: person!.value, certificate: parseCertificate(cert!.value) };
}
