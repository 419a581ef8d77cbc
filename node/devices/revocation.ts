/**
 * A device revocation: the person's signed word that one device key no longer
 * speaks for them, from a moment on. It spreads like an address record (to
 * contacts and anchors) and is kept for good; a revoked key is refused
 * however valid its certificate still looks.
 *
 *   bytes   = string payload, string sshsig
 *   payload = string "roj-devrevoke-v1"
 *             string person public key blob
 *             string device public key blob
 *             uint64 revoked from, ms since the epoch
 *             string reason (UTF-8, 0..200 bytes; shown escaped, never trusted)
 *   sshsig  = SSHSIG by the person over payload, namespace "roj-device"
 *
 * Entries a revoked device signs carry the author's own timestamp, which a
 * thief can backdate; the revocation stops new sessions at once, and entries
 * dated after "revoked from" are refused. What came before stays readable.
 */
import { RojError } from "../errors.ts";
import {
  DEVICE_REVOCATION_MAGIC,
  NAMESPACES,
  parsePublicKeyBlob,
  publicKeyBlob,
  type Signer,
  signPacked,
  unpackSigned,
  verifySshsig,
} from "../identity/mod.ts";
import { bytesEqual, WireReader, WireWriter } from "../wire/mod.ts";

/** Bytes of a revocation's reason. */
export const MAX_REVOCATION_REASON = 200;
/** Bytes of a whole revocation (payload and signature). */
export const MAX_REVOCATION_BYTES = 1024;

/** What a revocation states. */
export interface DeviceRevocation {
  /** The person's 32-byte raw public key, who signed it. */
  readonly person: Uint8Array;
  /** The revoked device's 32-byte raw public key. */
  readonly device: Uint8Array;
  /** Milliseconds since the epoch from which the device is refused. */
  readonly from: number;
  readonly reason: string;
}

/**
 * The person's signed revocation of a device.
 *
 * @throws {RojError} `bad_input` if the reason is too long or the person
 * revokes their own key.
 */
export async function signRevocation(
  person: Signer,
  r: Omit<DeviceRevocation, "person">,
): Promise<Uint8Array> {
  if (new TextEncoder().encode(r.reason).length > MAX_REVOCATION_REASON) {
    throw new RojError(
      "bad_input",
      `a revocation's reason is at most ${MAX_REVOCATION_REASON} bytes`,
    );
  }
  if (bytesEqual(r.device, person.publicKey)) {
    throw new RojError("bad_input", "the person key is not a device and cannot be revoked");
  }
  if (!Number.isSafeInteger(r.from) || r.from < 0) {
    throw new RojError("bad_input", "a revocation's time must be whole milliseconds");
  }
  const payload = new WireWriter()
    .string(DEVICE_REVOCATION_MAGIC)
    .string(publicKeyBlob(person.publicKey))
    .string(publicKeyBlob(r.device))
    .u64(r.from)
    .string(r.reason)
    .bytes();
  return await signPacked(person, NAMESPACES.device, payload);
}

/**
 * Reads and checks a revocation.
 *
 * @throws {RojError} `bad_input` if it is malformed or too large,
 * `bad_signature` if the person did not sign it, `refused` if it is another
 * person's than `expectedPerson`.
 */
export async function parseRevocation(
  bytes: Uint8Array,
  expectedPerson?: Uint8Array,
): Promise<DeviceRevocation> {
  let payload: Uint8Array;
  let sig: Uint8Array;
  let rev: DeviceRevocation;
  try {
    if (bytes.length > MAX_REVOCATION_BYTES) throw new Error("too large");
    ({ payload, sig } = unpackSigned(bytes, "revocation"));
    const r = new WireReader(payload, "revocation");
    if (r.text() !== DEVICE_REVOCATION_MAGIC) throw new Error("magic");
    const person = parsePublicKeyBlob(r.string());
    const device = parsePublicKeyBlob(r.string());
    const from = r.u64();
    const reason = r.text();
    r.end();
    if (from > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error("time");
    if (new TextEncoder().encode(reason).length > MAX_REVOCATION_REASON) throw new Error("reason");
    rev = { person, device, from: Number(from), reason };
  } catch (err) {
    throw new RojError("bad_input", "device revocation is malformed", { cause: err });
  }
  if (expectedPerson !== undefined && !bytesEqual(expectedPerson, rev.person)) {
    throw new RojError("refused", "device revocation is another person's");
  }
  if (!await verifySshsig(sig, NAMESPACES.device, payload, { publicKey: rev.person })) {
    throw new RojError("bad_signature", "device revocation has a bad signature");
  }
  return rev;
}
