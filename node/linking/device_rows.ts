/**
 * `roj devices` on the node that links: the devices certified here (or, on
 * a device, its own certificate with them), their standing and renewal, by name.
 */
import type { DeviceView } from "../api/mod.ts";
import {
  addCertificate,
  addRevocation,
  deviceStanding,
  emptyDeviceBook,
  renewalDueAt,
} from "../devices/mod.ts";
import { type Certificate, fingerprint } from "../identity/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import type { DeviceIdentity } from "./device_identity.ts";

/** A device certified here, as stored. */
export interface OwnDevice {
  readonly certificate: Certificate;
  readonly linkedAt: number;
  /** The person's signed revocation, once removed, and from when. */
  readonly revocation?: Uint8Array;
  readonly revokedFrom?: number;
  /** When it last talked to this node after it was linked (it asked for its renewal). */
  readonly lastSeen?: number;
}

/** What the rows are made of. */
export interface DeviceRowsInput {
  readonly now: number;
  /** This node's own key. */
  readonly me: Uint8Array;
  /** On a device: its person and certificate. */
  readonly self: DeviceIdentity | undefined;
  readonly own: readonly OwnDevice[];
  online(key: Uint8Array): boolean;
  /** Why renewing failed last, if it did. */
  readonly blocked: string | null | undefined;
  /** When sibling `key`'s session was last up, and the person's devices not linked here (sibling_rows.ts). */
  readonly siblings?: {
    seen(key: Uint8Array): number | undefined;
    others(listed: readonly DeviceView[]): DeviceView[];
  };
}

/** The rows of `roj devices`, sorted by name. */
export function deviceRows(i: DeviceRowsInput): DeviceView[] {
  const { now, me, self: device } = i;
  const person = device?.person ?? me;
  const mineByKey = new Map(i.own.map((d) => [toHex(d.certificate.publicKey), d]));
  let book = emptyDeviceBook(person);
  for (const c of [...(device ? [device.certificate] : []), ...i.own.map((d) => d.certificate)]) {
    book = addCertificate(book, c);
  }
  for (const d of i.own) {
    if (d.revokedFrom === undefined) continue;
    book = addRevocation(book, {
      person,
      device: d.certificate.publicKey,
      from: d.revokedFrom,
      reason: "removed",
    });
  }
  const rows = [...book.devices.values()].map((rec): DeviceView => {
    const mine = mineByKey.get(toHex(rec.key));
    const cert = rec.certificate!;
    const validUntil = Number.isFinite(cert.validBefore) ? cert.validBefore * 1000 : null;
    const standing = deviceStanding(book, rec.key, now);
    const self = bytesEqual(rec.key, me);
    const renewalDue = standing === "valid" && validUntil !== null &&
      now >= renewalDueAt(validUntil);
    return {
      name: cert.keyId,
      fingerprint: fingerprint(rec.key),
      certifiedSince: mine?.linkedAt ?? cert.validAfter * 1000,
      validUntil,
      standing,
      renewalDue,
      renewalBlocked: renewalDue
        ? i.blocked ??
          (device ? "the person key is on another node; it renews when it can be reached" : null)
        : null,
      lastSeen: self
        ? null
        : i.online(rec.key)
        ? now
        : i.siblings?.seen(rec.key) ?? mine?.lastSeen ?? mine?.linkedAt ?? null,
      online: !self && i.online(rec.key),
      self,
    };
  });
  return [...rows, ...i.siblings?.others(rows) ?? []]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
