/**
 * One person's devices as a contact, an anchor or the person's own devices
 * know them: a pure fold over the certificates and revocations seen, with
 * no I/O and no clock of its own (every question takes `at`).
 *
 * - Only checked statements go in: a certificate that passed
 *   checkDeviceCertificate at some moment, a revocation that passed
 *   parseRevocation for this person. The book trusts its inputs.
 * - Per device key it keeps the certificate that ends last: a renewal
 *   replaces the old one, an older one arriving late changes nothing.
 * - A revocation is for good. It applies to the key, whatever certificates it
 *   had or gets later; of two revocations of one key the earlier counts.
 * - The person key itself is always valid here: a person with one device
 *   and no certificate works exactly as before devices existed.
 */
import { type Certificate, fingerprint } from "../identity/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { renewalDueAt } from "./device_certificate.ts";
import type { DeviceRevocation } from "./revocation.ts";

/** Devices one book keeps; past this, certificates for new keys are ignored (fail closed). */
export const MAX_DEVICES_PER_PERSON = 32;
/** Keys one book keeps in all, counting revocations of keys it never saw certified. */
export const MAX_DEVICE_RECORDS = 4 * MAX_DEVICES_PER_PERSON;

/** What the book knows of one device key. */
export interface DeviceRecord {
  readonly key: Uint8Array;
  /** The certificate that ends last, if any arrived. */
  readonly certificate?: Certificate;
  /** From when it is revoked (ms), if it is. */
  readonly revokedFrom?: number;
}

/** One person's devices. Immutable: every change returns a new book. */
export interface DeviceBook {
  readonly person: Uint8Array;
  /** By the device key's hex. */
  readonly devices: ReadonlyMap<string, DeviceRecord>;
}

/** A device's standing at a moment. */
export type DeviceStanding =
  | "person" // the person key itself
  | "valid"
  | "not_yet_valid"
  | "expired"
  | "revoked"
  | "unknown"; // no certificate seen for it

/** A book that knows no device yet. */
export function emptyDeviceBook(person: Uint8Array): DeviceBook {
  return { person: person.slice(), devices: new Map() };
}

/** The book with `cert` taken in (already checked to be the person's). */
export function addCertificate(book: DeviceBook, cert: Certificate): DeviceBook {
  const id = toHex(cert.publicKey);
  const old = book.devices.get(id);
  if (old === undefined && book.devices.size >= MAX_DEVICES_PER_PERSON) return book;
  if (old?.certificate !== undefined && old.certificate.validBefore >= cert.validBefore) {
    return book;
  }
  const record: DeviceRecord = { ...(old ?? { key: cert.publicKey.slice() }), certificate: cert };
  return withRecord(book, id, record);
}

/** The book with `rev` taken in (already checked to be the person's). */
export function addRevocation(book: DeviceBook, rev: DeviceRevocation): DeviceBook {
  if (!bytesEqual(rev.person, book.person) || bytesEqual(rev.device, book.person)) return book;
  const id = toHex(rev.device);
  const old = book.devices.get(id);
  if (old?.revokedFrom !== undefined && old.revokedFrom <= rev.from) return book;
  // Revocations of known keys always count. Past the cap, one for a key never
  // seen is dropped: such a key is refused anyway, and certificates for new
  // keys are ignored long before the cap (MAX_DEVICES_PER_PERSON).
  if (old === undefined && book.devices.size >= MAX_DEVICE_RECORDS) return book;
  return withRecord(book, id, { ...(old ?? { key: rev.device.slice() }), revokedFrom: rev.from });
}

/** Where `key` stands for this person at `at` (ms). */
export function deviceStanding(book: DeviceBook, key: Uint8Array, at: number): DeviceStanding {
  if (bytesEqual(key, book.person)) return "person";
  const rec = book.devices.get(toHex(key));
  if (rec === undefined) return "unknown";
  if (rec.revokedFrom !== undefined && at >= rec.revokedFrom) return "revoked";
  if (rec.certificate === undefined) return "unknown";
  const s = Math.floor(at / 1000);
  if (s < rec.certificate.validAfter) return "not_yet_valid";
  if (s >= rec.certificate.validBefore) return "expired";
  return "valid";
}

/** Whether `key` speaks for the person at `at`: the person key, or a valid, unrevoked device. */
export function speaksForPerson(book: DeviceBook, key: Uint8Array, at: number): boolean {
  const s = deviceStanding(book, key, at);
  return s === "person" || s === "valid";
}

/** One row of `roj devices`. */
export interface DeviceRow {
  readonly name: string;
  readonly fingerprint: string;
  /** Ms since the epoch; null for a revoked key never certified here. */
  readonly validFrom: number | null;
  readonly validUntil: number | null;
  readonly standing: DeviceStanding;
  /** True when the certificate ends within the renewal window and is not yet renewed. */
  readonly renewalDue: boolean;
}

/** The devices as `roj devices` lists them at `now`: by name, then fingerprint. */
export function deviceRows(book: DeviceBook, now: number): DeviceRow[] {
  const rows: DeviceRow[] = [];
  for (const rec of book.devices.values()) {
    const cert = rec.certificate;
    const standing = deviceStanding(book, rec.key, now);
    const validUntil = cert === undefined ? null : secondsToMs(cert.validBefore);
    rows.push({
      name: cert?.keyId ?? "(revoked)",
      fingerprint: fingerprint(rec.key),
      validFrom: cert === undefined ? null : cert.validAfter * 1000,
      validUntil,
      standing,
      renewalDue: standing === "valid" && validUntil !== null && now >= renewalDueAt(validUntil),
    });
  }
  return rows.sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.fingerprint < b.fingerprint ? -1 : 1
  );
}

function secondsToMs(s: number): number | null {
  return Number.isFinite(s) ? s * 1000 : null;
}

function withRecord(book: DeviceBook, id: string, record: DeviceRecord): DeviceBook {
  const devices = new Map(book.devices);
  devices.set(id, record);
  return { person: book.person, devices };
}
