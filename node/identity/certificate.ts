/**
 * OpenSSH certificates for ed25519 keys (`ssh-ed25519-cert-v01@openssh.com`,
 * OpenSSH PROTOCOL.certkeys), byte for byte as `ssh-keygen -s` writes them, so
 * that `ssh-keygen -L -f` prints ours and a person key can act as the
 * certificate authority of that person's device keys:
 *
 *   string  "ssh-ed25519-cert-v01@openssh.com"
 *   string  nonce
 *   string  pk                  the certified key (32 bytes)
 *   uint64  serial
 *   uint32  type                1 user, 2 host
 *   string  key id
 *   string  valid principals    a packed list of strings
 *   uint64  valid after         seconds since the epoch
 *   uint64  valid before        seconds since the epoch; 2^64-1 is "forever"
 *   string  critical options    packed (name, string data) pairs
 *   string  extensions          packed (name, string data) pairs
 *   string  reserved            ""
 *   string  signature key       the CA's public key blob
 *   string  signature           over every byte above
 *
 * Parsing is stricter than OpenSSH where a peer could otherwise make two
 * encodings of one certificate, or hide a condition we would ignore: the
 * reserved field must be empty, option names sorted and unique, and every
 * critical option refused (PROTOCOL.certkeys: an unrecognised critical option
 * must fail the certificate, and Roj recognises none).
 */
import { base64 } from "@scure/base";
import { RojError } from "../errors.ts";
import { bytesEqual, WireReader, WireWriter } from "../wire/mod.ts";
import { clip } from "./_util.ts";
import { KEY_TYPE, parsePublicKeyBlob, publicKeyBlob } from "./keys.ts";
import { type Signer, type Verifier, verifyEd25519 } from "./signer.ts";

/** The SSH name of the only certificate type Roj reads and writes. */
export const CERT_KEY_TYPE = "ssh-ed25519-cert-v01@openssh.com";

/** `valid before` of a certificate that never expires. */
export const FOREVER = Number.POSITIVE_INFINITY;

/** What a certificate may be presented as (PROTOCOL.certkeys: SSH2_CERT_TYPE_USER / _HOST). */
export type CertificateKind = "user" | "host";

/** One critical option or extension: a name and its (usually empty) data. */
export interface CertificateOption {
  readonly name: string;
  readonly data: Uint8Array;
}

/** What the signer of a certificate states about a key. */
export interface CertificateFields {
  /** Random bytes that make every certificate distinct (ssh-keygen uses 32). */
  readonly nonce: Uint8Array;
  /** The certified 32-byte raw ed25519 public key. */
  readonly publicKey: Uint8Array;
  readonly serial: bigint;
  readonly kind: CertificateKind;
  /** Free text the CA chose; for a Roj device, the device's name. */
  readonly keyId: string;
  readonly principals: readonly string[];
  /** Seconds since the epoch (0: from the beginning). */
  readonly validAfter: number;
  /** Seconds since the epoch, or {@linkcode FOREVER}. */
  readonly validBefore: number;
  readonly criticalOptions: readonly CertificateOption[];
  readonly extensions: readonly CertificateOption[];
}

/** A signed certificate, as parsed or made. */
export interface Certificate extends CertificateFields {
  /** The CA's 32-byte raw ed25519 public key. */
  readonly caKey: Uint8Array;
  /** The CA's 64-byte raw Ed25519 signature over {@linkcode signedBytes}. */
  readonly signature: Uint8Array;
  /** Every byte of the certificate before its signature: what the CA signed. */
  readonly signedBytes: Uint8Array;
  /** The whole certificate blob, as it sits in a `-cert.pub` file or an SSHSIG. */
  readonly blob: Uint8Array;
}

/** Bounds on a certificate a peer hands us; ssh-keygen's own are far below these. */
export const CERTIFICATE_LIMITS = {
  /** Bytes of a whole certificate blob. */
  blob: 4096,
  /** Bytes of the nonce (ssh-keygen writes 32). */
  nonce: 64,
  /** Bytes of the key id. */
  keyId: 256,
  /** Principals listed. */
  principals: 16,
  /** Bytes of one principal. */
  principal: 256,
  /** Extensions listed. */
  extensions: 16,
} as const;

/** Why {@linkcode checkCertificate} refused a certificate. */
export type CertificateProblem =
  | "wrong_ca"
  | "bad_signature"
  | "wrong_kind"
  | "not_yet_valid"
  | "expired"
  | "principal_not_listed";

/** What {@linkcode checkCertificate} expects of a certificate. */
export interface CertificateExpectation {
  /** The CA's 32-byte raw public key that must have signed it. */
  readonly ca: Uint8Array;
  /** Seconds since the epoch at which it must be valid. */
  readonly at: number;
  readonly kind?: CertificateKind;
  /** A principal it must list. */
  readonly principal?: string;
  /** Checks the raw signature; pass a cached one on hot paths. @default verifyEd25519 */
  readonly verifier?: Verifier;
}

const U64_MAX = 0xffffffffffffffffn;
const KIND_CODES: Record<CertificateKind, number> = { user: 1, host: 2 };

/**
 * The CA's signature over `fields`, as `ssh-keygen -s` makes it. Ed25519 is
 * deterministic, so equal fields and CA give equal bytes.
 *
 * @throws {RojError} `bad_input` if a field is out of the bounds above, or
 * options are unsorted or repeated.
 */
export async function signCertificate(ca: Signer, fields: CertificateFields): Promise<Certificate> {
  checkFields(fields);
  const signedBytes = encodeSignedPart(fields, ca.publicKey);
  const signature = await ca.sign(signedBytes);
  const blob = new WireWriter()
    .raw(signedBytes)
    .string(new WireWriter().string(KEY_TYPE).string(signature).bytes())
    .bytes();
  return { ...fields, caKey: ca.publicKey.slice(), signature, signedBytes, blob };
}

/**
 * Splits a certificate blob into its parts, checking its structure but not its
 * signature or validity (that is {@linkcode checkCertificate}).
 *
 * @throws {RojError} `bad_input` if the blob is not a well-formed ed25519
 * certificate within {@linkcode CERTIFICATE_LIMITS}, holds a critical option,
 * or has trailing bytes.
 */
export function parseCertificate(blob: Uint8Array): Certificate {
  if (blob.length > CERTIFICATE_LIMITS.blob) {
    throw new RojError("bad_input", `certificate is over ${CERTIFICATE_LIMITS.blob} bytes`);
  }
  const r = new WireReader(blob, "certificate");
  const type = r.text();
  if (type !== CERT_KEY_TYPE) {
    throw new RojError("bad_input", `not an ed25519 certificate: ${clip(type)}`);
  }
  const nonce = r.string().slice();
  const publicKey = r.string().slice();
  const serial = r.u64();
  const kindCode = r.u32();
  const kind = kindCode === 1 ? "user" : kindCode === 2 ? "host" : null;
  if (kind === null) throw new RojError("bad_input", `unknown certificate type ${kindCode}`);
  const keyId = r.text();
  const principals = readStringList(r.string(), "certificate principals");
  const validAfter = secondsFromWire(r.u64());
  const validBefore = secondsFromWire(r.u64());
  const criticalOptions = readOptions(r.string(), "certificate critical options");
  const extensions = readOptions(r.string(), "certificate extensions");
  if (r.string().length !== 0) {
    throw new RojError("bad_input", "certificate has a non-empty reserved field");
  }
  const caKey = parsePublicKeyBlob(r.string());
  const signedLength = blob.length - r.remaining;
  const sig = new WireReader(r.string(), "certificate signature");
  r.end();
  const sigType = sig.text();
  if (sigType !== KEY_TYPE) {
    throw new RojError("bad_input", `certificate signature is not ed25519: ${clip(sigType)}`);
  }
  const signature = sig.string().slice();
  if (signature.length !== 64) {
    throw new RojError("bad_input", `ed25519 signature must be 64 bytes, got ${signature.length}`);
  }
  sig.end();
  const fields: CertificateFields = {
    nonce,
    publicKey,
    serial,
    kind,
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions,
    extensions,
  };
  checkFields(fields);
  const copy = blob.slice();
  return { ...fields, caKey, signature, signedBytes: copy.subarray(0, signedLength), blob: copy };
}

/**
 * Whether `cert` holds for `expect`: signed by that CA, of that kind, valid at
 * that second, listing that principal. Null when it does; never throws.
 */
export async function checkCertificate(
  cert: Certificate,
  expect: CertificateExpectation,
): Promise<CertificateProblem | null> {
  if (!bytesEqual(cert.caKey, expect.ca)) return "wrong_ca";
  const ok = expect.verifier === undefined
    ? await verifyEd25519(cert.caKey, cert.signature, cert.signedBytes)
    : await expect.verifier.verify(cert.caKey, cert.signature, cert.signedBytes);
  if (!ok) return "bad_signature";
  return certificateValidity(cert, expect);
}

/**
 * The checks of {@linkcode checkCertificate} that need no signature: kind,
 * validity window (OpenSSH's: valid after <= at < valid before) and principal.
 */
export function certificateValidity(
  cert: CertificateFields,
  expect: Omit<CertificateExpectation, "ca" | "verifier">,
): CertificateProblem | null {
  if (expect.kind !== undefined && cert.kind !== expect.kind) return "wrong_kind";
  if (expect.at < cert.validAfter) return "not_yet_valid";
  if (expect.at >= cert.validBefore) return "expired";
  if (expect.principal !== undefined && !cert.principals.includes(expect.principal)) {
    return "principal_not_listed";
  }
  return null;
}

/** The one-line form of a `-cert.pub` file: `ssh-ed25519-cert-v01@openssh.com AAAA… [comment]`. */
export function certificateLine(cert: Certificate, comment = ""): string {
  const line = `${CERT_KEY_TYPE} ${base64.encode(cert.blob)}`;
  return comment === "" ? line : `${line} ${comment}`;
}

/**
 * Reads a `-cert.pub` line.
 *
 * @throws {RojError} `bad_input` if it is not an ed25519 certificate line.
 */
export function parseCertificateLine(line: string): { certificate: Certificate; comment: string } {
  const m = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line.trim());
  if (m === null || m[1] !== CERT_KEY_TYPE) {
    throw new RojError("bad_input", `not an ed25519 certificate line: ${clip(line)}`);
  }
  let blob: Uint8Array;
  try {
    blob = base64.decode(m[2]!);
  } catch (err) {
    throw new RojError("bad_input", "certificate is not valid base64", { cause: err });
  }
  return { certificate: parseCertificate(blob), comment: (m[3] ?? "").trim() };
}

/** The certificate's signed part: everything up to and including the signature key. */
function encodeSignedPart(f: CertificateFields, caKey: Uint8Array): Uint8Array {
  const principals = new WireWriter();
  for (const p of f.principals) principals.string(p);
  return new WireWriter()
    .string(CERT_KEY_TYPE)
    .string(f.nonce)
    .string(f.publicKey)
    .u64(f.serial)
    .u32(KIND_CODES[f.kind])
    .string(f.keyId)
    .string(principals.bytes())
    .u64(secondsToWire(f.validAfter))
    .u64(secondsToWire(f.validBefore))
    .string(encodeOptions(f.criticalOptions))
    .string(encodeOptions(f.extensions))
    .string(new Uint8Array(0))
    .string(publicKeyBlob(caKey))
    .bytes();
}

function encodeOptions(options: readonly CertificateOption[]): Uint8Array {
  const w = new WireWriter();
  for (const o of options) w.string(o.name).string(o.data);
  return w.bytes();
}

function checkFields(f: CertificateFields): void {
  const L = CERTIFICATE_LIMITS;
  const utf8 = (s: string) => new TextEncoder().encode(s).length;
  if (f.nonce.length === 0 || f.nonce.length > L.nonce) {
    throw new RojError("bad_input", `certificate nonce must be 1-${L.nonce} bytes`);
  }
  if (f.publicKey.length !== 32) {
    throw new RojError("bad_input", "certified ed25519 key must be 32 bytes");
  }
  if (f.serial < 0n || f.serial > U64_MAX) {
    throw new RojError("bad_input", "certificate serial is out of range");
  }
  if (utf8(f.keyId) > L.keyId) {
    throw new RojError("bad_input", `certificate key id is over ${L.keyId} bytes`);
  }
  if (f.principals.length > L.principals) {
    throw new RojError("bad_input", `certificate lists over ${L.principals} principals`);
  }
  for (const p of f.principals) {
    if (utf8(p) > L.principal) {
      throw new RojError("bad_input", `certificate principal is over ${L.principal} bytes`);
    }
  }
  secondsToWire(f.validAfter);
  secondsToWire(f.validBefore);
  if (f.criticalOptions.length > 0) {
    throw new RojError(
      "bad_input",
      `certificate has critical options Roj does not honour: ${
        clip(f.criticalOptions.map((o) => o.name).join(","))
      }`,
    );
  }
  if (f.extensions.length > L.extensions) {
    throw new RojError("bad_input", `certificate lists over ${L.extensions} extensions`);
  }
  for (let i = 1; i < f.extensions.length; i++) {
    if (!(f.extensions[i - 1]!.name < f.extensions[i]!.name)) {
      throw new RojError("bad_input", "certificate extensions are not sorted and unique");
    }
  }
}

function readStringList(bytes: Uint8Array, what: string): string[] {
  const r = new WireReader(bytes, what);
  const out: string[] = [];
  while (r.remaining > 0) {
    if (out.length === CERTIFICATE_LIMITS.principals) {
      throw new RojError("bad_input", `${what} are too many`);
    }
    out.push(r.text());
  }
  return out;
}

function readOptions(bytes: Uint8Array, what: string): CertificateOption[] {
  const r = new WireReader(bytes, what);
  const out: CertificateOption[] = [];
  while (r.remaining > 0) {
    if (out.length === CERTIFICATE_LIMITS.extensions) {
      throw new RojError("bad_input", `${what} are too many`);
    }
    out.push({ name: r.text(), data: r.string().slice() });
  }
  return out;
}

/** Seconds as a number; 2^64-1 is forever; others past 2^53 are refused rather than rounded. */
function secondsFromWire(v: bigint): number {
  if (v === U64_MAX) return FOREVER;
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RojError("bad_input", "certificate validity is out of range");
  }
  return Number(v);
}

function secondsToWire(s: number): bigint {
  if (s === FOREVER) return U64_MAX;
  if (!Number.isSafeInteger(s) || s < 0) {
    throw new RojError("bad_input", `certificate validity must be whole seconds, got ${s}`);
  }
  return BigInt(s);
}
