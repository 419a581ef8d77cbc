/**
 * Everything a node does for a person with several devices beyond linking:
 * the sessions with its own other devices (sibling_sync.ts) and the dials to
 * each device of its contacts (device_dialler.ts), started and stopped
 * together.
 */
import type { Pair } from "../discovery/mod.ts";
import type { Certificate } from "../identity/mod.ts";
import { DEVICES_FEATURE, encodeB64, peerHas } from "../protocol/mod.ts";
import type { LiveSession } from "../sessions/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { DeviceDialler } from "./device_dialler.ts";
import { type OwnDevices, withOwnDevices } from "./own_devices.ts";
import { type SiblingParts, SiblingSync, type SiblingSyncDeps } from "./sibling_sync.ts";
import { SiblingFinder } from "./sibling_finder.ts";

/** A contact's devices as linking/device_sessions.ts knows them. */
export interface ContactDeviceBooks {
  deviceKeys(person: Uint8Array): Uint8Array[];
  speaksAt(person: Uint8Array, key: Uint8Array, at: number): boolean;
  learn(person: Uint8Array, cert: Certificate, at: number): Promise<void>;
  vouch(
    person: Uint8Array,
    key: Uint8Array,
    cert: string | undefined,
  ): Promise<Certificate | string>;
}

/** The node's parts device sync uses. */
export interface DeviceSyncParts extends SiblingParts {
  /** Our pairwise tags and seals with a key (discovery/pairwise.ts), to open a device's copies. */
  readonly pair: (them: Uint8Array) => Pair;
}

export interface DeviceSyncDeps extends Omit<SiblingSyncDeps, "contactDevices"> {
  readonly passive: boolean;
  /** The contacts' device books (built after this, hence a function). */
  readonly devices: () => ContactDeviceBooks;
}

export class DeviceSync {
  readonly siblings: SiblingSync;
  readonly dialler: DeviceDialler;
  /** Our siblings' sealed records at our contacts, for when all of us moved. */
  readonly #finder: SiblingFinder;
  readonly #passive: boolean;
  readonly #bus: SiblingParts["bus"];
  #unsubscribe: (() => void) | undefined;
  readonly #me: Uint8Array;
  readonly #own: OwnDevices;
  readonly #devices: () => ContactDeviceBooks;

  constructor(parts: DeviceSyncParts, deps: DeviceSyncDeps) {
    this.#passive = deps.passive;
    this.#me = parts.me;
    this.#own = parts.own;
    this.#bus = parts.bus;
    this.#devices = deps.devices;
    const contactDevices = withOwnDevices(parts.own, deps.devices);
    this.#finder = new SiblingFinder({
      me: parts.me,
      own: parts.own,
      kv: deps.kv,
      sessions: parts.sessions,
      now: () => parts.clock.now(),
      pair: parts.pair,
    });
    this.siblings = new SiblingSync(parts, {
      ...deps,
      contactDevices,
      find: (key) => this.#finder.lookUp(key),
    });
    this.dialler = new DeviceDialler({
      clock: parts.clock,
      bus: parts.bus,
      kv: deps.kv,
      contacts: deps.contacts,
      sessions: parts.sessions,
      vouch: (person, key, cert) => deps.devices().vouch(person, key, cert),
      speaksNow: (person, key) => deps.devices().speaksAt(person, key, parts.clock.now()),
      pair: parts.pair,
    });
  }

  /** The person's own devices as this node knows them. */
  get own(): OwnDevices {
    return this.#own;
  }

  /**
   * Whether `key` spoke for `person` at `at`: the person's key, or a device
   * of theirs then (ours by our own book, a contact's by theirs), exactly
   * that person's (GroupBook.speaksFor: a group member's device).
   */
  speaksFor(person: Uint8Array, key: Uint8Array, at: number): boolean {
    if (bytesEqual(person, key)) return true;
    if (this.#own.has(key)) {
      return bytesEqual(person, this.#own.person) && this.#own.speaksAt(key, at);
    }
    return this.#devices().speaksAt(person, key, at);
  }

  /**
   * A session with a contact is kept: it holds our sealed records for our
   * siblings (sibling_finder.ts). On a device, the revocations of our
   * person's devices it holds go to the contact too (the person key's node
   * hands its own, linking/link_service.ts), so a removal reaches contacts the
   * person key's node never meets again.
   */
  onSession(s: LiveSession): void {
    if (this.#passive) return;
    this.#finder.onHolder(
      s,
      (key) => this.siblings.isLive(key),
      (key, addresses) => this.siblings.reach(key, addresses),
    ).catch(() => {});
    if (bytesEqual(this.#me, this.#own.person)) return;
    if (!peerHas(s.rpc.peerHello, DEVICES_FEATURE)) return;
    for (const r of this.#own.revocations()) {
      s.rpc.request("device.revoke", { revocation: encodeB64(r) }).catch(() => {});
    }
  }

  start(): void {
    if (this.#passive) return;
    this.siblings.start();
    this.dialler.start();
    // A new record of ours (we moved): every holder gets its copies for our siblings.
    this.#unsubscribe = this.#bus.subscribe((e) => {
      if (e.type === "record-published") this.#finder.handOutAll();
    });
  }

  close(): void {
    this.#unsubscribe?.();
    this.siblings.close();
    this.dialler.close();
  }
}
