/**
 * A device's certificate: the person's key, acting as an OpenSSH certificate
 * authority, vouches for one device key (DESIGN.md "A person with several
 * devices"). It is an ordinary `ssh-keygen -s` user certificate:
 *
 * - key id: the device's name, as the person sees it in `roj devices`;
 * - one principal: the person's fingerprint (`SHA256:…`), so that stock
 *   OpenSSH checks a device's entries with the allowed_signers line
 *   `SHA256:… cert-authority ssh-ed25519 AAAA…` and `-I SHA256:…`
 *   (ssh-keygen matches `-I` against the certificate's principals);
 * - a validity window, renewed before it ends while the person key is at hand;
 * - no critical options and no extensions: it grants nothing but "this key
 *   speaks for this person", and is never meant for logging into a shell.
 *
 * Times here are milliseconds, as everywhere in the node; the certificate
 * holds whole seconds.
 */
import { RojError } from "../errors.ts";
import {
  type Certificate,
  type CertificateProblem,
  checkCertificate,
  fingerprint,
  signCertificate,
  type Signer,
  type Verifier,
} from "../identity/mod.ts";
import { bytesEqual } from "../wire/mod.ts";

/** How long a new device certificate is valid unless told otherwise. */
export const DEVICE_CERTIFICATE_DAYS = 90;
/** Renewal is due this long before a certificate ends (`roj devices` warns from then). */
export const RENEWAL_DUE_DAYS = 14;
const DAY_MS = 24 * 3600 * 1000;

/** Letters, digits, `.`, `_` and `-`, starting with a letter or digit: safe in a terminal, a file name and a key id. */
const DEVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

/**
 * The device name, checked.
 *
 * @throws {RojError} `bad_input` unless it is 1-32 letters, digits, `.`, `_`
 * or `-`, starting with a letter or digit.
 */
export function checkDeviceName(name: string): string {
  if (!DEVICE_NAME.test(name)) {
    throw new RojError(
      "bad_input",
      "a device name is 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit",
    );
  }
  return name;
}

/** What the person certifies about a device. */
export interface DeviceCertificateRequest {
  /** The device's 32-byte raw ed25519 public key. */
  readonly deviceKey: Uint8Array;
  readonly name: string;
  /** Milliseconds since the epoch from which it is valid. */
  readonly validFrom: number;
  /** Milliseconds since the epoch at which it ends. */
  readonly validUntil: number;
  /** Unique per person, so a revocation or a log line can name one certificate. */
  readonly serial: bigint;
  /** 32 random bytes, as ssh-keygen uses. */
  readonly nonce: Uint8Array;
}

/**
 * The person's certificate for a device, as `ssh-keygen -s person -I name
 * -n SHA256:… -O clear -V from:until -z serial device.pub` would sign it.
 *
 * @throws {RojError} `bad_input` on a bad name, an empty or reversed window,
 * or a device key equal to the person's.
 */
export function certifyDevice(person: Signer, req: DeviceCertificateRequest): Promise<Certificate> {
  checkDeviceName(req.name);
  if (!(req.validUntil > req.validFrom)) {
    throw new RojError("bad_input", "a device certificate must end after it starts");
  }
  if (bytesEqual(req.deviceKey, person.publicKey)) {
    throw new RojError("bad_input", "the person key does not certify itself");
  }
  return signCertificate(person, {
    nonce: req.nonce,
    publicKey: req.deviceKey,
    serial: req.serial,
    kind: "user",
    keyId: req.name,
    principals: [fingerprint(person.publicKey)],
    validAfter: Math.floor(req.validFrom / 1000),
    validBefore: Math.floor(req.validUntil / 1000),
    criticalOptions: [],
    extensions: [],
  });
}

/** Why a device certificate does not speak for a person. */
export type DeviceCertificateProblem = CertificateProblem | "bad_device_name" | "extra_principals";

/**
 * Whether `cert` makes its key one of `person`'s devices at `at` (ms): signed
 * by the person's key, a user certificate naming exactly the person's
 * fingerprint, a valid device name, in its window. Null when it does; never
 * throws. Revocation is the device book's job, not this.
 */
export async function checkDeviceCertificate(
  cert: Certificate,
  person: Uint8Array,
  at: number,
  verifier?: Verifier,
): Promise<DeviceCertificateProblem | null> {
  const problem = await checkCertificate(cert, {
    ca: person,
    at: Math.floor(at / 1000),
    kind: "user",
    principal: fingerprint(person),
    ...(verifier === undefined ? {} : { verifier }),
  });
  if (problem !== null) return problem;
  if (cert.principals.length !== 1) return "extra_principals";
  if (!DEVICE_NAME.test(cert.keyId)) return "bad_device_name";
  return null;
}

/** When a certificate valid until `validUntil` (ms) is due for renewal. */
export function renewalDueAt(validUntil: number): number {
  return validUntil - RENEWAL_DUE_DAYS * DAY_MS;
}

/** The default window of a certificate made at `now`. */
export function defaultValidity(now: number): { validFrom: number; validUntil: number } {
  // A minute back, so a device whose clock runs a little behind accepts it at once.
  return { validFrom: now - 60_000, validUntil: now + DEVICE_CERTIFICATE_DAYS * DAY_MS };
}
