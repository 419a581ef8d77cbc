/**
 * A device link code: what `roj device link` shows on a device that holds the
 * person key, for a new device to type into `roj init --join`. It says where
 * to dial, which host key to expect there, and holds a one-time secret that
 * lets its holder ask for one certificate, once, before it expires.
 *
 *   "rojdev1:" base64url( string payload, string sshsig )     (no padding)
 *
 *   payload = string "roj-devlink-v1"
 *             string person public key blob
 *             string linking device's public key blob (its SSH host key)
 *             uint32 address count (1..8), then that many strings "host:port"
 *             uint64 expiry, ms since the epoch
 *             string secret, 32 random bytes
 *   sshsig  = SSHSIG by the linking device over payload, namespace "roj-device"
 *
 * The signature catches a mistyped or altered code before anything is dialled;
 * the secret is what proves the new device was shown the screen. Whoever sees
 * the code can link a device until it expires or is used, so it is short-lived
 * (10 minutes) and both screens show the new device's fingerprint to compare.
 */
import { base64urlnopad } from "@scure/base";
import { RojError } from "../errors.ts";
import {
  DEVICE_LINK_MAGIC,
  DEVICE_LINK_TEXT_PREFIX,
  NAMESPACES,
  parsePublicKeyBlob,
  publicKeyBlob,
  type Signer,
  signPacked,
  unpackSigned,
  verifySshsig,
} from "../identity/mod.ts";
import { WireReader, WireWriter } from "../wire/mod.ts";

/** How long a link code is valid. */
export const LINK_CODE_MINUTES = 10;
/** Characters of a link code's text. */
export const MAX_LINK_CODE_TEXT = 2048;
/** Addresses a link code names. */
export const MAX_LINK_CODE_ADDRESSES = 8;
/** Bytes of a link code's secret. */
export const LINK_SECRET_BYTES = 32;

/** What a link code says. */
export interface LinkCode {
  /** The person's 32-byte raw public key. */
  readonly person: Uint8Array;
  /** The linking device's 32-byte raw public key: the host key to expect when dialling it. */
  readonly device: Uint8Array;
  /** Where the linking device listens, "host:port". */
  readonly addresses: readonly string[];
  /** Milliseconds since the epoch. */
  readonly expires: number;
  readonly secret: Uint8Array;
}

/**
 * Signs a link code with the linking device's key and renders it as text.
 *
 * @throws {RojError} `bad_input` without addresses, with too many, or with a
 * secret of the wrong size.
 */
export async function createLinkCode(
  device: Signer,
  code: Omit<LinkCode, "device">,
): Promise<string> {
  if (code.secret.length !== LINK_SECRET_BYTES) {
    throw new RojError("bad_input", `a link secret is ${LINK_SECRET_BYTES} bytes`);
  }
  if (code.addresses.length === 0 || code.addresses.length > MAX_LINK_CODE_ADDRESSES) {
    throw new RojError(
      "bad_input",
      `a link code names 1-${MAX_LINK_CODE_ADDRESSES} addresses; is the node listening?`,
    );
  }
  const w = new WireWriter()
    .string(DEVICE_LINK_MAGIC)
    .string(publicKeyBlob(code.person))
    .string(publicKeyBlob(device.publicKey))
    .u32(code.addresses.length);
  for (const a of code.addresses) w.string(a);
  const payload = w.u64(code.expires).string(code.secret).bytes();
  return DEVICE_LINK_TEXT_PREFIX +
    base64urlnopad.encode(await signPacked(device, NAMESPACES.device, payload));
}

/**
 * Reads and checks a link code's text at `now` (ms).
 *
 * @throws {RojError} `bad_input` with a one-line reason: not a link code,
 * damaged, altered, or expired.
 */
export async function parseLinkCode(text: string, now: number): Promise<LinkCode> {
  const t = text.trim();
  if (t.length > MAX_LINK_CODE_TEXT || !t.startsWith(DEVICE_LINK_TEXT_PREFIX)) {
    throw new RojError(
      "bad_input",
      `this is not a device link code (it should start with ${DEVICE_LINK_TEXT_PREFIX})`,
    );
  }
  let payload: Uint8Array;
  let sig: Uint8Array;
  let code: LinkCode;
  try {
    ({ payload, sig } = unpackSigned(
      base64urlnopad.decode(t.slice(DEVICE_LINK_TEXT_PREFIX.length)),
      "link code",
    ));
    const r = new WireReader(payload, "link code");
    if (r.text() !== DEVICE_LINK_MAGIC) throw new Error("magic");
    const person = parsePublicKeyBlob(r.string());
    const device = parsePublicKeyBlob(r.string());
    const count = r.u32();
    if (count === 0 || count > MAX_LINK_CODE_ADDRESSES) throw new Error("addresses");
    const addresses: string[] = [];
    for (let i = 0; i < count; i++) addresses.push(r.text());
    const expires = r.u64();
    const secret = r.string().slice();
    r.end();
    if (secret.length !== LINK_SECRET_BYTES) throw new Error("secret");
    if (expires > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error("expiry");
    code = { person, device, addresses, expires: Number(expires), secret };
  } catch (err) {
    throw new RojError("bad_input", "this link code is damaged or incomplete; make a new one", {
      cause: err,
    });
  }
  if (!await verifySshsig(sig, NAMESPACES.device, payload, { publicKey: code.device })) {
    throw new RojError("bad_input", "this link code's signature does not match: it was altered");
  }
  if (code.expires <= now) {
    throw new RojError(
      "bad_input",
      `this link code expired at ${new Date(code.expires).toISOString()}; make a new one`,
    );
  }
  return code;
}
