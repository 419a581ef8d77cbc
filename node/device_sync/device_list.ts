/**
 * The person's devices made known to each other (feature devlist1), over
 * the sibling session (sibling_sync.ts: the other side is already checked
 * to be the person key or a device the person certified). A device learns
 * its siblings' certificates otherwise only from a hello or an entry's
 * signature, so two devices linked to one laptop would never meet, nor
 * list each other in `roj devices`. With `devsync.devices` a node hands
 * each sibling at session up every device certificate it holds that is
 * valid and not revoked, with where that device last said it listens
 * (`devsync.addresses`), and hands on a device's entry to its other
 * siblings up when that device tells it where it listens. The receiver
 * keeps each certificate that checks out as the person's, for that key,
 * valid now (OwnDevices.learn), keeps the addresses of a device it had none
 * for, and dials it unless a session with it is up.
 */
import type { Clock } from "../clock/mod.ts";
import { deviceStanding } from "../devices/mod.ts";
import { parseCertificate } from "../identity/mod.ts";
import {
  decodeB64,
  DEVSYNC_DEVICES_FEATURE,
  encodeB64,
  type ParamsOf,
  peerHas,
  type RpcSession,
} from "../protocol/mod.ts";
import { keys } from "../store/mod.ts";
import { parseEndpoint } from "../transport/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import type { OwnDevices } from "./own_devices.ts";

/** Devices per devsync.devices request (the schema's cap, methods.ts). */
export const MAX_LISTED_DEVICES = 16;
const MAX_ADDRESSES = 8;

type Listed = ParamsOf<"devsync.devices">["devices"][number];

export interface DeviceListDeps {
  /** This node's key. */
  readonly me: Uint8Array;
  readonly own: OwnDevices;
  readonly kv: Deno.Kv;
  readonly clock: Clock;
  /** Whether a sibling session with `key` is up. */
  isLive(key: Uint8Array): boolean;
  /** Dials sibling `key` at these addresses (unless up or being dialled). */
  reach(key: Uint8Array, addresses: readonly string[]): void;
}

export class DeviceList {
  readonly #d: DeviceListDeps;
  /** Siblings up that list devlist1, by key hex. */
  readonly #siblings = new Map<string, { key: Uint8Array; rpc: RpcSession }>();

  constructor(deps: DeviceListDeps) {
    this.#d = deps;
  }

  /** A sibling's session is up: it gets every device we know of but itself, if it lists devlist1. */
  attach(key: Uint8Array, rpc: RpcSession): void {
    if (!peerHas(rpc.peerHello, DEVSYNC_DEVICES_FEATURE)) return;
    const k = toHex(key);
    this.#siblings.set(k, { key, rpc });
    rpc.onClose(() => {
      if (this.#siblings.get(k)?.rpc === rpc) this.#siblings.delete(k);
    });
    this.#send(rpc, key, this.#listable().filter((c) => !bytesEqual(c, key))).catch(() => {});
  }

  /** Sibling `key` said where it listens: its other siblings up hear of it. */
  moved(key: Uint8Array): void {
    if (!this.#listable().some((c) => bytesEqual(c, key))) return;
    for (const s of this.#siblings.values()) {
      if (!bytesEqual(s.key, key)) this.#send(s.rpc, s.key, [key]).catch(() => {});
    }
  }

  close(): void {
    this.#siblings.clear();
  }

  /** A sibling's `devsync.devices`: each good certificate kept, each device new to us dialled. */
  async take(from: Uint8Array, devices: readonly Listed[]): Promise<Record<string, never>> {
    const { own, clock, kv } = this.#d;
    for (const d of devices) {
      let cert;
      try {
        cert = parseCertificate(decodeB64(d.cert));
      } catch {
        continue; // not a certificate: nothing to learn from it
      }
      const key = cert.publicKey;
      if (bytesEqual(key, this.#d.me) || bytesEqual(key, from)) continue;
      await own.learn(cert, clock.now()); // checked there: the person's, for this key, valid now
      if (!own.speaksAt(key, clock.now())) continue; // not ours, expired or revoked
      const addresses = d.addresses.filter(isEndpoint).slice(0, MAX_ADDRESSES);
      if (addresses.length === 0) continue;
      // What the device told us itself comes first; this is only for one we had nothing of.
      if ((await kv.get(keys.siblingAddresses(key))).value === null) {
        await kv.set(keys.siblingAddresses(key), addresses);
      }
      if (!this.#d.isLive(key)) this.#d.reach(key, addresses);
    }
    return {};
  }

  /** Our person's devices known here, valid now and not revoked (not us). */
  #listable(): Uint8Array[] {
    const now = this.#d.clock.now();
    const book = this.#d.own.book();
    return [...book.devices.values()].filter((r) =>
      r.certificate && !bytesEqual(r.key, this.#d.me) &&
      deviceStanding(book, r.key, now) === "valid"
    ).map((r) => r.key);
  }

  async #send(rpc: RpcSession, to: Uint8Array, list: readonly Uint8Array[]): Promise<void> {
    const devices: Listed[] = [];
    for (const key of list) {
      const cert = this.#d.own.certificate(key);
      if (!cert || bytesEqual(key, to)) continue;
      const addresses = (await this.#d.kv.get<string[]>(keys.siblingAddresses(key))).value ?? [];
      devices.push({ cert: encodeB64(cert.blob), addresses: addresses.slice(0, MAX_ADDRESSES) });
    }
    for (let i = 0; i < devices.length && !rpc.closed; i += MAX_LISTED_DEVICES) {
      await rpc.request("devsync.devices", { devices: devices.slice(i, i + MAX_LISTED_DEVICES) });
    }
  }
}

function isEndpoint(a: string): boolean {
  try {
    parseEndpoint(a);
    return true;
  } catch {
    return false;
  }
}
