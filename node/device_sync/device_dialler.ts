/**
 * Contacts dial every device of a person (issue 13 item 5, discovery per
 * device).
 *
 * A device publishes its own address record, signed by its own key, and hands
 * it (`addr.mine`) on every session with a contact of its person, as any node
 * does; its sealed copies go to holders under its own pairwise tags. A
 * contact takes that record only on a session from that very device, whose
 * certificate checked out (linking/device_sessions.ts), and keeps it for the
 * device (a higher seq replaces a lower one). It serves it to no one: a
 * device's address reaches only the person's contacts, each from the device
 * itself.
 *
 * The contact dials each device it holds a record of while it has no session
 * from that device: at start, when the device's session ends, and again with
 * back-off while it does not answer. It expects the device's host key, and
 * keeps the session as the person's only once the certificate in the
 * device's hello checks out (valid now, not revoked). When none of the
 * device's addresses answers, it asks every session it has (holders, anchors
 * included) for the device's sealed copies, under the pairwise tag of the
 * device's key and its own, as the cascade does for a person: a newer record
 * found there is kept and dialled (a device that moved).
 */
import { hex } from "@scure/base";
import type { Clock } from "../clock/mod.ts";
import type { Contact, ContactBook } from "../contacts/mod.ts";
import { openRecord, type Pair } from "../discovery/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import { type Certificate, createVerifier, fingerprint } from "../identity/mod.ts";
import { decodeB64, encodeB64 } from "../protocol/mod.ts";
import type { LiveSession, SessionManager } from "../sessions/mod.ts";
import { keys } from "../store/mod.ts";
import { parseEndpoint } from "../transport/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { Redial } from "./redial.ts";
import { forgetDeviceRecord } from "./removed_devices.ts";

/** What a contact keeps of a device's record. */
interface DeviceRecord {
  readonly seq: number;
  readonly addresses: string[];
}

export interface DeviceDiallerDeps {
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly kv: Deno.Kv;
  readonly contacts: ContactBook;
  readonly sessions: SessionManager;
  /** Whether `key` is a device of `person` now, by its hello's certificate (DeviceSessions.vouch). */
  vouch(
    person: Uint8Array,
    key: Uint8Array,
    cert: string | undefined,
  ): Promise<Certificate | string>;
  /** Whether `key` speaks for `person` now (its certificate valid, not revoked). */
  speaksNow(person: Uint8Array, key: Uint8Array): boolean;
  /** Our pairwise tags and seals with a key (discovery/pairwise.ts). */
  pair(them: Uint8Array): Pair;
}

/** Per addr.get asked of a holder for a device's copies. */
const LOOKUP_TIMEOUT_MS = 5000;

export class DeviceDialler {
  readonly #d: DeviceDiallerDeps;
  readonly #verifier = createVerifier();
  readonly #redial: Redial;
  readonly #dialling = new Set<string>();
  /** The devices whose records we hold, by the device's fingerprint: person and key. */
  readonly #byFingerprint = new Map<string, { person: Uint8Array; device: Uint8Array }>();
  #unsubscribe: (() => void) | undefined;
  #closed = false;

  constructor(deps: DeviceDiallerDeps) {
    this.#d = deps;
    this.#redial = new Redial(deps.clock, (slot) => {
      const [p, d] = slot.split("/");
      this.#dialStored(hex.decode(p!), hex.decode(d!)).catch(() => {});
    });
  }

  /**
   * On a session from a contact's device, before its first request is
   * served: the record it hands over is its own (signed by the device key).
   */
  serve(s: LiveSession): void {
    const device = s.device;
    if (!device) return;
    const person = s.peer;
    s.rpc.handle("addr.mine", async (p) => {
      const rec = await openRecord(decodeB64(p.record), device, this.#verifier);
      const key = keys.deviceRecord(person, device);
      const had = (await this.#d.kv.get<DeviceRecord>(key)).value;
      if (!had || rec.seq > had.seq) {
        await this.#d.kv.set(key, { seq: rec.seq, addresses: [...rec.addresses] });
        this.#byFingerprint.set(fingerprint(device), { person, device });
      }
      return {};
    });
  }

  /** Dials every device we hold a record of; dials a device again when its session ends. */
  start(): void {
    this.#unsubscribe = this.#d.bus.subscribe((e) => {
      if (e.type === "device" && e.op === "revoked") {
        this.#forget(e.fingerprint).catch(() => {});
        return;
      }
      if (e.type !== "session" || e.state !== "down" || e.device === undefined) return;
      const d = this.#byFingerprint.get(e.device);
      if (d) this.#redial.schedule(`${toHex(d.person)}/${toHex(d.device)}`);
    });
    this.#dialAll().catch(() => {});
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#redial.close();
  }

  /**
   * A contact removed the device with this fingerprint (its revocation came):
   * its record goes, and no dial of it is pending.
   */
  async #forget(fp: string): Promise<void> {
    const d = this.#byFingerprint.get(fp);
    if (!d || this.#d.speaksNow(d.person, d.device)) return;
    this.#byFingerprint.delete(fp);
    this.#redial.forget(`${toHex(d.person)}/${toHex(d.device)}`);
    await forgetDeviceRecord(this.#d.kv, d.person, d.device);
  }

  async #dialAll(): Promise<void> {
    for await (const e of this.#d.kv.list<DeviceRecord>({ prefix: keys.deviceRecords() })) {
      const [, , person, device] = e.key;
      if (!(person instanceof Uint8Array) || !(device instanceof Uint8Array)) continue;
      this.#byFingerprint.set(fingerprint(device), { person, device });
      this.#dial(person, device, e.value.addresses).catch(() => {});
    }
  }

  async #dialStored(person: Uint8Array, device: Uint8Array): Promise<void> {
    const rec = (await this.#d.kv.get<DeviceRecord>(keys.deviceRecord(person, device))).value;
    if (rec) await this.#dial(person, device, rec.addresses);
  }

  /** Dials one device of a contact at its addresses in turn, unless a session from it is up. */
  async #dial(person: Uint8Array, device: Uint8Array, addresses: readonly string[]): Promise<void> {
    const slot = `${toHex(person)}/${toHex(device)}`;
    const contact = this.#d.contacts.accepted(person);
    if (this.#closed || !contact || contact.blocked || this.#dialling.has(slot)) return;
    if (!this.#d.speaksNow(person, device) || this.#up(person, device)) return;
    this.#dialling.add(slot);
    try {
      for (const a of addresses) {
        if (await this.#dialAt(contact, device, a)) {
          this.#redial.reached(slot);
          return;
        }
        if (this.#closed || this.#up(person, device)) return;
      }
      const moved = await this.#lookUp(person, device);
      for (const a of moved?.addresses ?? []) {
        if (await this.#dialAt(contact, device, a)) {
          this.#redial.reached(slot);
          return;
        }
        if (this.#closed || this.#up(person, device)) return;
      }
      this.#redial.schedule(slot);
    } finally {
      this.#dialling.delete(slot);
    }
  }

  /**
   * Asks every session for the sealed copies of the device's record meant for
   * us; the newest that opens and is signed by the device is kept, if newer
   * than the one we hold (then returned).
   */
  async #lookUp(person: Uint8Array, device: Uint8Array): Promise<DeviceRecord | undefined> {
    const pair = this.#d.pair(device);
    const tag = encodeB64(pair.tag(device));
    const key = keys.deviceRecord(person, device);
    const had = (await this.#d.kv.get<DeviceRecord>(key)).value;
    let best = had;
    await Promise.all(
      this.#d.sessions.every().map(async (s) => {
        const res = await s.rpc.request("addr.get", { tags: [tag] }, LOOKUP_TIMEOUT_MS)
          .catch(() => undefined);
        for (const item of res?.items ?? []) {
          if (item.t !== tag) continue;
          try {
            const rec = await openRecord(
              pair.open(device, decodeB64(item.b)),
              device,
              this.#verifier,
            );
            if (!best || rec.seq > best.seq) best = { seq: rec.seq, addresses: [...rec.addresses] };
          } catch { /* a bad copy is no record */ }
        }
      }),
    );
    if (!best || best === had || this.#closed) return undefined;
    await this.#d.kv.set(key, best);
    return best;
  }

  #up(person: Uint8Array, device: Uint8Array): boolean {
    return this.#d.sessions.of(person).some((s) => s.device && bytesEqual(s.device, device));
  }

  async #dialAt(contact: Contact, device: Uint8Array, address: string): Promise<boolean> {
    try {
      const { kept } = await this.#d.sessions.establish(
        {
          to: parseEndpoint(address),
          expect: device,
          expectName: `${contact.name}'s device ${fingerprint(device)}`,
        },
        { remote: address, device },
        async (rpc) => {
          const v = await this.#d.vouch(contact.publicKey, device, rpc.peerHello?.cert);
          if (typeof v === "string") {
            throw new RojError("refused", `${contact.name}'s device: ${v}`);
          }
          return contact;
        },
      );
      return kept;
    } catch {
      return false;
    }
  }
}
