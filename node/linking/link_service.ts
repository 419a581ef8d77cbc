/**
 * Linking devices on the node that holds the person key: making one-time
 * link codes, certifying the key of a new device that proves a code's secret
 * (on a session whose SSH user name is "devlink", which serves nothing
 * else), and listing the devices certified here.
 *
 * Crash safety: a code is stored before its text is shown, so a restart
 * keeps it valid. In two phases (devlink2, link_decision.ts): the first
 * proof reserves the code for the new key with its certificate, in one
 * commit checked against the code's versionstamp (two devices racing with
 * one code cannot both win); the new device writes its folder under a
 * temporary name and confirms; the confirmation records the device and marks
 * the code used in one commit; only then does the new device move its folder
 * into place (join.ts). A kill at any moment leaves the code open, reserved
 * (no device listed; the same key may ask again and gets the same
 * certificate, and a reservation that expires ends with no device), or used
 * with the device recorded, which the new device finishes when it runs
 * again. With a new device that does not list devlink2, one phase as before.
 *
 * On a device (made by `roj init --join`, or the person key's node after
 * `roj key export --remove`), there is no person key: linking, removing and
 * renewing take it lent for the one call (`--key FILE`, lent_key.ts) and are
 * refused without it; `devices` shows the device's own certificate too.
 */
import type { DeviceView, LinkCodeView } from "../api/mod.ts";
import type { Clock, TimerId } from "../clock/mod.ts";
import {
  certifyDevice,
  createLinkCode,
  defaultValidity,
  LINK_CODE_MINUTES,
  LINK_SECRET_BYTES,
  MAX_LINK_CODE_ADDRESSES,
  planRenewals,
  renewedValidity,
  signRevocation,
} from "../devices/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import {
  type Certificate,
  fingerprint,
  type KeyPair,
  parseCertificate,
  type Signer,
} from "../identity/mod.ts";
import { isCertifiedSigner } from "./certified_signer.ts";
import { deviceRows, type OwnDevice } from "./device_rows.ts";
import { lentSigner, noPersonKey } from "./lent_key.ts";
import { type DeviceIdentity, deviceIdentity } from "./device_identity.ts";
import { fetchRenewal, RenewalTimer } from "./renewals.ts";
import type { Contact } from "../contacts/mod.ts";
import {
  ANCHOR_FEATURE,
  DEVICES_FEATURE,
  DEVLINK_CONFIRM_FEATURE,
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

export { LINK_USER } from "./link_dial.ts";
export { type DeviceIdentity, deviceIdentity } from "./device_identity.ts";

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
  /** When sibling `key`'s session was last up, and the person's devices not linked here (sibling_rows.ts). */
  readonly siblings?: {
    seen(key: Uint8Array): number | undefined;
    others(listed: readonly DeviceView[]): DeviceView[];
  };
  /** The contacts a new device starts with (not blocked). */
  contacts(): readonly Contact[];
  /** The live sessions, to hand a revocation to. */
  sessions(): readonly { readonly rpc: RpcSession }[];
  /** Links in one phase, as a node that does not list devlink2 (tests: omitFeatures). @default false */
  readonly onePhase?: boolean;
  /** On a device: its own key pair, to dial the person key's node for a renewal. */
  readonly keyPair?: KeyPair;
  /** Internal (tests): linking waits for good after this step's commit, for a test to kill the node there. */
  readonly holdAt?: "pending" | "linked";
}

export class LinkService {
  readonly #d: LinkServiceDeps;
  /** Codes kept, by id (mirrors the store, for `admits`, which must answer at once). */
  readonly #codes = new Map<string, LinkCodeRecord>();
  readonly #devices = new Map<string, OwnDevice>();
  #self: DeviceIdentity | undefined;
  /** On a device: the person key lent for a link code, by code id, in memory only (lent_key.ts). */
  readonly #lent = new Map<string, Signer>();
  readonly #lentTimers = new Set<TimerId>();
  /** Links are certified one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  readonly #renewals: RenewalTimer;

  private constructor(d: LinkServiceDeps, self: DeviceIdentity | undefined) {
    this.#d = d;
    this.#self = self;
    this.#renewals = new RenewalTimer({
      clock: d.clock,
      candidates: () =>
        this.#self
          ? [{ certificate: this.#self.certificate, revoked: false }]
          : [...this.#devices.values()].map((o) => ({
            certificate: o.certificate,
            revoked: o.revocation !== undefined,
          })),
      renew: (cert) => this.#self ? this.#renewSelf() : this.#queued(() => this.#renewOwn(cert)),
      onBlocked: (cert, why) => {
        const fp = fingerprint(cert.publicKey);
        d.bus.say(`the certificate of device ${cert.keyId} (${fp}) is due for renewal: ${why}`);
        d.bus.emit({
          type: "device",
          op: "renewal_due",
          name: cert.keyId,
          fingerprint: fp,
          reason: why,
        });
      },
    });
  }

  /** Renews due certificates now and whenever the next falls due (devices/renewal.ts). */
  startRenewals(): void {
    this.#renewals.start();
  }

  /** Runs the renewal decision now (tests; the timer does it by itself). */
  checkRenewals(): Promise<void> {
    return this.#renewals.check();
  }

  close(): void {
    this.#renewals.close();
    for (const t of this.#lentTimers) this.#d.clock.clearTimeout(t);
    this.#lent.clear();
  }

  /** Keeps a lent person key for code `id` until it certified its device or `ms` passed. */
  #lend(id: string, signer: Signer, ms: number): void {
    this.#lent.set(id, signer);
    const t = this.#d.clock.setTimeout(
      () => (this.#lent.delete(id), this.#lentTimers.delete(t)),
      ms,
    );
    this.#d.clock.unref(t);
    this.#lentTimers.add(t);
  }

  #queued<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  /**
   * Renews the certificate of a device linked here (the person key signs:
   * it throws agent_unavailable when the key is in an agent that is gone),
   * keeps it, and hands it to every contact in a session.
   */
  async #renewOwn(old: Certificate, person: Signer = this.#d.signer): Promise<Certificate> {
    const key = old.publicKey;
    const own = this.#devices.get(toHex(key));
    if (!own || own.revocation !== undefined) return old;
    if (own.certificate.validBefore > old.validBefore) return own.certificate; // renewed already
    const now = this.#d.clock.now();
    const certificate = await certifyDevice(person, {
      deviceKey: key,
      name: old.keyId,
      ...renewedValidity(old, now),
      serial: new DataView(crypto.getRandomValues(new Uint8Array(8)).buffer).getBigUint64(0),
      nonce: crypto.getRandomValues(new Uint8Array(32)),
    });
    await this.#save({ ...own, certificate });
    const fp = fingerprint(key);
    const until = new Date(certificate.validBefore * 1000).toISOString();
    this.#d.bus.say(`renewed the certificate of device ${old.keyId} (${fp}) until ${until}`);
    this.#d.bus.emit({ type: "device", op: "renewed", name: old.keyId, fingerprint: fp });
    for (const s of this.#d.sessions()) this.#handCertificates(s.rpc, [certificate]);
    return certificate;
  }

  /** On a device: fetches its renewed certificate from the person key's node, keeps it and signs with it. */
  async #renewSelf(): Promise<void> {
    const self = this.#self!;
    if (!this.#d.keyPair) throw new RojError("refused", "no key to ask for a renewal with");
    await this.#useCertificate(
      await fetchRenewal(this.#d.kv, this.#d.keyPair, self, this.#d.clock),
    );
  }

  /**
   * Renews every certificate due here now with the person key: on a device,
   * lent for this call (--key), its own and those of devices it linked.
   */
  async renewNow(personKey?: string): Promise<DeviceView[]> {
    const self = this.#self;
    const person = self ? personKey && await lentSigner(personKey, self.person) : this.#d.signer;
    if (!person) throw noPersonKey("renew certificates");
    const own = [...this.#devices.values()].map((o) => ({
      certificate: o.certificate,
      revoked: o.revocation !== undefined,
    }));
    const mine = self ? [{ certificate: self.certificate, revoked: false }] : [];
    for (const cert of planRenewals([...mine, ...own], this.#d.clock.now()).due) {
      if (!self || !bytesEqual(cert.publicKey, this.#d.me)) {
        await this.#queued(() => this.#renewOwn(cert, person));
        continue;
      }
      await this.#useCertificate(
        await certifyDevice(person, {
          deviceKey: this.#d.me,
          name: cert.keyId,
          ...renewedValidity(cert, this.#d.clock.now()),
          serial: new DataView(crypto.getRandomValues(new Uint8Array(8)).buffer).getBigUint64(0),
          nonce: crypto.getRandomValues(new Uint8Array(32)),
        }),
      );
    }
    return this.devices();
  }

  /** On a device: keeps its renewed certificate and signs with it. */
  async #useCertificate(certificate: Certificate): Promise<void> {
    const self = this.#self!;
    await this.#d.kv.set(keys.setting("deviceCertificate"), certificate.blob);
    this.#self = { ...self, certificate };
    if (isCertifiedSigner(this.#d.signer)) this.#d.signer.setCertificate(certificate);
    const fp = fingerprint(certificate.publicKey);
    const until = new Date(certificate.validBefore * 1000).toISOString();
    this.#d.bus.say(`this device's certificate was renewed, until ${until}`);
    this.#d.bus.emit({ type: "device", op: "renewed", name: certificate.keyId, fingerprint: fp });
  }

  /** Keeps a device linked here, in the store and in memory. */
  async #save(own: OwnDevice): Promise<void> {
    const key = own.certificate.publicKey;
    await this.#d.kv.set(keys.ownDevice(key), { ...own, certificate: own.certificate.blob });
    this.#devices.set(toHex(key), own);
  }

  /** A device linked here asks for its certificate as it is now (renewed first when due). */
  async #renewFor(device: Uint8Array, remote: string): Promise<ResultOf<"device.renew">> {
    const own = this.#devices.get(toHex(device));
    const refuse = this.#refuser(fingerprint(device), remote);
    if (!own) return refuse("not_linked", "this device was not linked here");
    if (this.#self) return refuse("no_person_key", "the person key is offline now");
    if (own.revocation !== undefined) return refuse("revoked", "this device was removed");
    await this.#save({ ...own, lastSeen: this.#d.clock.now() });
    const due = planRenewals(
      [{ certificate: own.certificate, revoked: false }],
      this.#d.clock.now(),
    );
    const cert = due.due.length > 0 ? await this.#renewOwn(own.certificate) : own.certificate;
    return { certificate: encodeB64(cert.blob) };
  }

  static async open(d: LinkServiceDeps): Promise<LinkService> {
    const s = new LinkService(d, await deviceIdentity(d.kv));
    for await (const e of d.kv.list<LinkCodeRecord>({ prefix: keys.linkCodes() })) {
      s.#codes.set(e.value.id, e.value);
    }
    for await (
      const e of d.kv.list<
        {
          certificate: Uint8Array;
          linkedAt: number;
          revocation?: Uint8Array;
          revokedFrom?: number;
          lastSeen?: number;
        }
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

  /**
   * Whether `key` may log in as LINK_USER now: while a code made here is
   * kept, or for a device linked here (not removed) that asks again for its
   * certificate, its folder not yet in place when it was stopped.
   */
  admits(key?: Uint8Array): boolean {
    const now = this.#d.clock.now();
    if ([...this.#codes.values()].some((c) => isKept(c, now))) return true;
    const own = key === undefined ? undefined : this.#devices.get(toHex(key));
    return own !== undefined && own.revocation === undefined;
  }

  /**
   * A new link code, stored before it is returned.
   * @throws {RojError} refused on a device without the person key lent, no_node
   * when not listening, busy with MAX_LINK_CODES open.
   */
  async link(personKey?: string): Promise<LinkCodeView> {
    const lent = this.#self && personKey
      ? await lentSigner(personKey, this.#self.person)
      : undefined;
    if (this.#self && !lent) throw noPersonKey("link new devices");
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
      person: this.#self?.person ?? this.#d.me,
      addresses,
      expires: record.expires,
      secret: record.secret,
    });
    await this.#d.kv.set(keys.linkCode(record.id), record);
    this.#codes.set(record.id, record);
    if (lent) this.#lend(record.id, lent, record.expires - now);
    this.#d.bus.say(
      `made a device link code, valid until ${new Date(record.expires).toISOString()}`,
    );
    return { text, expires: record.expires, addresses };
  }

  /**
   * A LINK_USER session: it may ask device.link for the key it logged in
   * with, and device.confirm once it wrote its folder (devlink2).
   */
  serve(rpc: RpcSession, device: Uint8Array, remote: string): void {
    const queued = <T>(fn: () => Promise<T>) => this.#queued(fn);
    const twoPhase = () => !this.#d.onePhase && peerHas(rpc.peerHello, DEVLINK_CONFIRM_FEATURE);
    rpc.handle(
      "device.link",
      (p) => queued(() => this.#certify(device, p.proof, p.name, remote, twoPhase())),
    );
    rpc.handle("device.confirm", () => queued(() => this.#confirm(device, remote)));
    rpc.handle("device.renew", () => queued(() => this.#renewFor(device, remote)));
  }

  async #certify(
    device: Uint8Array,
    proofHex: string,
    name: string,
    remote: string,
    twoPhase: boolean,
  ): Promise<ResultOf<"device.link">> {
    const now = this.#d.clock.now();
    const fp = fingerprint(device);
    const refuse = this.#refuser(fp, remote);
    const own = this.#devices.get(toHex(device));
    if (own?.revocation !== undefined) refuse("revoked", "this device was removed");
    // Linked already, and asking again (its folder was not in place yet): its
    // own certificate again, even once the code is gone (it logged in with the key).
    if (own) return this.#answer(own.certificate);
    const codes = await this.#storedCodes();
    const proof = Uint8Array.from(proofHex.match(/../g)!.map((h) => parseInt(h, 16)));
    const decision = decideLink(codes.map((c) => c.record), proof, device, this.#d.me, now);
    if (!decision.ok) return refuse(decision.why, LINK_REFUSALS[decision.why]);
    if (decision.again === "pending") {
      return this.#answer(parseCertificate(decision.code.pending!.certificate));
    }
    const person = this.#self ? this.#lent.get(decision.code.id) : this.#d.signer;
    if (!person) return refuse("no_person_key", "this device does not hold the person key");
    if (bytesEqual(device, person.publicKey)) {
      refuse("person_key", "the person key is not a device");
    }
    const taken = [...this.#devices.values()].find((d) =>
      d.certificate.keyId === name && !bytesEqual(d.certificate.publicKey, device) &&
      d.revocation === undefined
    );
    if (taken) {
      refuse("name_taken", `a device named ${name} is linked already; choose another --name`);
    }
    const serial = new DataView(crypto.getRandomValues(new Uint8Array(8)).buffer).getBigUint64(0);
    const certificate = await certifyDevice(person, {
      deviceKey: device,
      name,
      ...defaultValidity(now),
      serial,
      nonce: crypto.getRandomValues(new Uint8Array(32)),
    });
    const code = decision.code;
    this.#lent.delete(code.id); // it did its job: the certificate is made
    const vs = codes.find((c) => c.record.id === code.id)!.versionstamp;
    if (twoPhase) {
      // Reserved for this key; the device is recorded only once it confirms.
      const pending: LinkCodeRecord = {
        ...code,
        pending: { at: now, device: device.slice(), name, certificate: certificate.blob },
      };
      const res = await this.#d.kv.atomic()
        .check({ key: keys.linkCode(code.id), versionstamp: vs })
        .set(keys.linkCode(code.id), pending)
        .commit();
      if (!res.ok) return refuse("used", LINK_REFUSALS.used);
      this.#codes.set(code.id, pending);
      this.#d.bus.emit({ type: "device", op: "pending", name, fingerprint: fp });
      await this.#hold("pending");
      return this.#answer(certificate);
    }
    // A new device that does not confirm (no devlink2): recorded at once, as before.
    const res = await this.#record(code, vs, device, certificate, now);
    if (!res) return refuse("used", LINK_REFUSALS.used);
    this.#linked(name, fp, remote);
    return this.#answer(certificate);
  }

  /** The new device wrote its folder: record it and mark its code used, in one commit. */
  async #confirm(device: Uint8Array, remote: string): Promise<Record<string, never>> {
    const fp = fingerprint(device);
    const refuse = this.#refuser(fp, remote);
    const own = this.#devices.get(toHex(device));
    if (own?.revocation !== undefined) refuse("revoked", "this device was removed");
    if (own) return {};
    const now = this.#d.clock.now();
    const codes = await this.#storedCodes();
    const found = codes.find((c) =>
      c.record.pending !== undefined && bytesEqual(c.record.pending.device, device)
    );
    if (!found) return refuse("not_pending", "no link of this device is under way here");
    const code = found.record;
    if (code.expires <= now) return refuse("expired", LINK_REFUSALS.expired);
    const pending = code.pending!;
    const certificate = parseCertificate(pending.certificate);
    if (!await this.#record(code, found.versionstamp, device, certificate, now)) {
      return refuse("used", LINK_REFUSALS.used);
    }
    this.#linked(pending.name, fp, remote);
    await this.#hold("linked");
    return {};
  }

  /** Records `device` and marks `code` used, in one commit checked against the code's versionstamp. */
  async #record(
    code: LinkCodeRecord,
    vs: string,
    device: Uint8Array,
    certificate: Certificate,
    now: number,
  ): Promise<boolean> {
    const { pending: _, ...rest } = code;
    const used: LinkCodeRecord = { ...rest, used: { at: now, device: device.slice() } };
    const res = await this.#d.kv.atomic()
      .check({ key: keys.linkCode(code.id), versionstamp: vs })
      .set(keys.linkCode(code.id), used)
      .set(keys.ownDevice(device), { certificate: certificate.blob, linkedAt: now })
      .commit();
    if (!res.ok) return false;
    this.#codes.set(code.id, used);
    this.#devices.set(toHex(device), { certificate, linkedAt: now });
    return true;
  }

  /** A test's kill point (holdAt): never goes on past it, and keeps the process alive. */
  #hold(step: "pending" | "linked"): Promise<void> {
    if (this.#d.holdAt !== step) return Promise.resolve();
    return new Promise(() => this.#d.clock.setInterval(() => {}, 60_000));
  }

  #linked(name: string, fp: string, remote: string): void {
    this.#d.bus.say(`linked device ${name} (${fp}) from ${remote}`);
    this.#d.bus.emit({ type: "device", op: "linked", name, fingerprint: fp });
  }

  #refuser(fp: string, remote: string) {
    return (why: string, message: string): never => {
      this.#d.bus.say(`refused to link ${fp} from ${remote}: ${message}`);
      this.#d.bus.emit({ type: "device", op: "refused", fingerprint: fp, reason: why });
      throw new RojError("refused", message);
    };
  }

  async #storedCodes(): Promise<{ record: LinkCodeRecord; versionstamp: string }[]> {
    const codes: { record: LinkCodeRecord; versionstamp: string }[] = [];
    for await (const e of this.#d.kv.list<LinkCodeRecord>({ prefix: keys.linkCodes() })) {
      codes.push({ record: e.value, versionstamp: e.versionstamp });
    }
    return codes;
  }

  #answer(certificate: Certificate): ResultOf<"device.link"> {
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
   * @throws {RojError} refused on a device without the person key lent, not_found for an
   * unknown or removed name
   */
  async remove(name: string, personKey?: string): Promise<DeviceView> {
    const person = this.#self
      ? personKey ? await lentSigner(personKey, this.#self.person) : undefined
      : this.#d.signer;
    if (!person) throw noPersonKey("remove devices");
    const own = [...this.#devices.values()].find((d) =>
      d.certificate.keyId === name && d.revocation === undefined
    );
    if (!own) throw new RojError("not_found", `no linked device named ${name}`);
    const device = own.certificate.publicKey;
    const from = this.#d.clock.now();
    const revocation = await signRevocation(person, { device, from, reason: "removed" });
    const updated: OwnDevice = { ...own, revocation, revokedFrom: from };
    await this.#save(updated);
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
    const current = [...this.#devices.values()].filter((d) => d.revocation === undefined);
    this.#handCertificates(rpc, current.map((d) => d.certificate));
  }

  /** Hands a contact (one that lists devlink2) certificates of devices of ours. */
  #handCertificates(rpc: RpcSession, certificates: readonly Certificate[]): void {
    if (!peerHas(rpc.peerHello, DEVLINK_CONFIRM_FEATURE)) return;
    for (const c of certificates) {
      rpc.request("device.cert", { certificate: encodeB64(c.blob) }).catch(() => {});
    }
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
    return deviceRows({
      now: this.#d.clock.now(),
      me: this.#d.me,
      self: this.#self,
      own: [...this.#devices.values()],
      online: (k) => this.#d.online(k),
      blocked: this.#renewals.blocked,
      ...(this.#d.siblings ? { siblings: this.#d.siblings } : {}),
    });
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
