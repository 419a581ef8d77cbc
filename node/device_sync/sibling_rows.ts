/**
 * What `roj devices` says of the person's other devices beyond those linked
 * here (linking/link_service.ts lists what this node certified, or on a
 * device only itself): on a device, the node with the person key and every
 * sibling whose certificate it knows (own_devices.ts), each with its online
 * state; and on every node, a sibling's "last seen", which is when its
 * sibling session was last up (kept per device in the store, so it survives
 * restarts), not when it was linked or asked for its renewal.
 */
import type { DeviceView } from "../api/mod.ts";
import { deviceStanding, renewalDueAt } from "../devices/mod.ts";
import { fingerprint } from "../identity/mod.ts";
import { keys } from "../store/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import type { OwnDevices } from "./own_devices.ts";

/** When each sibling's session was last up, by key hex; written through to the store. */
export class SiblingSeen {
  readonly #kv: Deno.Kv;
  readonly #seen = new Map<string, number>();
  #loaded: Promise<void> | undefined;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** Reads what the store keeps (at start). */
  load(): Promise<void> {
    this.#loaded ??= (async () => {
      for await (const e of this.#kv.list<unknown>({ prefix: keys.siblingsSeen() })) {
        const key = e.key[2];
        if (!(key instanceof Uint8Array) || typeof e.value !== "number") continue;
        const k = toHex(key);
        this.#seen.set(k, Math.max(this.#seen.get(k) ?? 0, e.value));
      }
    })();
    return this.#loaded;
  }

  /** Sibling `key`'s session was up at `at` (ms): when it came up, and when it ended. */
  async mark(key: Uint8Array, at: number): Promise<void> {
    await this.load().catch(() => {});
    const k = toHex(key);
    if ((this.#seen.get(k) ?? 0) >= at) return;
    this.#seen.set(k, at);
    await this.#kv.set(keys.siblingSeen(key), at);
  }

  /** When sibling `key`'s session was last up; undefined: never here since this record began. */
  seen(key: Uint8Array): number | undefined {
    return this.#seen.get(toHex(key));
  }
}

export interface SiblingRowParts {
  /** This node's key. */
  readonly me: Uint8Array;
  readonly own: OwnDevices;
  /** The person's name, for the row of the node with the person key. */
  readonly personName: string;
  now(): number;
  online(key: Uint8Array): boolean;
  seen(key: Uint8Array): number | undefined;
}

/**
 * Rows for the person's devices `listed` does not have: on a device, the
 * node with the person key (standing "person") and the siblings it knows;
 * on the person key's node, siblings certified elsewhere (none, usually).
 */
export function siblingRows(p: SiblingRowParts, listed: readonly DeviceView[]): DeviceView[] {
  const now = p.now();
  const book = p.own.book();
  const have = new Set(listed.map((d) => d.fingerprint));
  const lastSeen = (key: Uint8Array) => p.online(key) ? now : p.seen(key) ?? null;
  const rows: DeviceView[] = [];
  if (!bytesEqual(p.me, p.own.person) && !have.has(fingerprint(p.own.person))) {
    // Known here since this device was certified by it.
    const self = book.devices.get(toHex(p.me))?.certificate;
    rows.push({
      name: p.personName,
      fingerprint: fingerprint(p.own.person),
      certifiedSince: self ? self.validAfter * 1000 : now,
      validUntil: null,
      standing: "person",
      renewalDue: false,
      renewalBlocked: null,
      lastSeen: lastSeen(p.own.person),
      online: p.online(p.own.person),
      self: false,
    });
  }
  for (const rec of book.devices.values()) {
    const cert = rec.certificate;
    if (!cert || bytesEqual(rec.key, p.me) || have.has(fingerprint(rec.key))) continue;
    const validUntil = Number.isFinite(cert.validBefore) ? cert.validBefore * 1000 : null;
    const standing = deviceStanding(book, rec.key, now);
    rows.push({
      name: cert.keyId,
      fingerprint: fingerprint(rec.key),
      certifiedSince: cert.validAfter * 1000,
      validUntil,
      standing,
      // Its renewal is its own and the person key's node's: shown, never warned of here.
      renewalDue: standing === "valid" && validUntil !== null && now >= renewalDueAt(validUntil),
      renewalBlocked: null,
      lastSeen: standing === "revoked" ? p.seen(rec.key) ?? null : lastSeen(rec.key),
      online: standing !== "revoked" && p.online(rec.key),
      self: false,
    });
  }
  return rows;
}

/** What LinkService.devices takes: last seen per sibling, and the rows it does not have. */
export function siblingViews(
  me: Uint8Array,
  own: OwnDevices,
  personName: string,
  clock: { now(): number },
  siblings: () => {
    isLive(key: Uint8Array): boolean;
    lastSeen(key: Uint8Array): number | undefined;
  },
): {
  seen(key: Uint8Array): number | undefined;
  others(listed: readonly DeviceView[]): DeviceView[];
} {
  const parts: SiblingRowParts = {
    me,
    own,
    personName,
    now: () => clock.now(),
    online: (k) => siblings().isLive(k),
    seen: (k) => siblings().lastSeen(k),
  };
  return { seen: parts.seen, others: (listed) => siblingRows(parts, listed) };
}
