/**
 * An identity is an ed25519 key pair, kept in OpenSSH formats: the public key
 * as an SSH wire blob or an `authorized_keys`-style line, the private key as an
 * openssh-key-v1 file (see `private_key.ts`).
 */
import { base64 } from "@scure/base";
import { RojError } from "../errors.ts";
import { WireReader, WireWriter } from "../wire/mod.ts";
import { clip } from "./_util.ts";

/** The SSH name of the only key type Roj uses. */
export const KEY_TYPE = "ssh-ed25519";

/** An ed25519 identity. */
export interface KeyPair {
  /** The 32-byte raw ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** The 32-byte ed25519 private seed (RFC 8032 "private key"). */
  readonly seed: Uint8Array;
  /** The OpenSSH comment, often `user@host`; may be empty. */
  readonly comment: string;
}

/**
 * Makes a fresh ed25519 key pair with WebCrypto.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateKeyPair } from "./mod.ts";
 *
 * const kp = await generateKeyPair("alice@laptop");
 * assert.equal(kp.publicKey.length, 32);
 * ```
 * @throws {RojError} `internal` if WebCrypto returns an unexpected key encoding.
 */
export async function generateKeyPair(comment: string): Promise<KeyPair> {
  const pair = await crypto.subtle.generateKey("Ed25519", true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  if (pkcs8.length !== 48 || publicKey.length !== 32) {
    throw new RojError("internal", `WebCrypto exported an ed25519 key of ${pkcs8.length} bytes`);
  }
  return { publicKey, seed: pkcs8.slice(16), comment };
}

/**
 * The SSH wire blob of a public key: string "ssh-ed25519", string key.
 *
 * @throws {RangeError} if `pub` is not 32 bytes.
 */
export function publicKeyBlob(pub: Uint8Array): Uint8Array {
  if (pub.length !== 32) {
    throw new RangeError(`ed25519 public key must be 32 bytes, got ${pub.length}`);
  }
  return new WireWriter().string(KEY_TYPE).string(pub).bytes();
}

/**
 * The 32 raw bytes inside an ed25519 public key blob.
 *
 * @throws {RojError} `bad_input` if the blob is truncated, has trailing bytes or
 * holds another key type.
 */
export function parsePublicKeyBlob(blob: Uint8Array): Uint8Array {
  const r = new WireReader(blob, "public key blob");
  const type = r.text();
  if (type !== KEY_TYPE) {
    throw new RojError("bad_input", `not an ed25519 public key: ${clip(type)}`);
  }
  const pub = r.string();
  if (pub.length !== 32) {
    throw new RojError("bad_input", `ed25519 public key must be 32 bytes, got ${pub.length}`);
  }
  r.end();
  return pub.slice();
}

/**
 * The one-line OpenSSH public key, as in `id_ed25519.pub` or `authorized_keys`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateKeyPair, parsePublicKeyLine, publicKeyLine } from "./mod.ts";
 *
 * const kp = await generateKeyPair("alice");
 * const line = publicKeyLine(kp.publicKey, "alice"); // "ssh-ed25519 AAAAC3Nza… alice"
 * assert.deepEqual(parsePublicKeyLine(line), { publicKey: kp.publicKey, comment: "alice" });
 * ```
 * @throws {RangeError} if `pub` is not 32 bytes.
 */
export function publicKeyLine(pub: Uint8Array, comment = ""): string {
  const line = `${KEY_TYPE} ${base64.encode(publicKeyBlob(pub))}`;
  return comment === "" ? line : `${line} ${comment}`;
}

/**
 * Reads an `ssh-ed25519 AAAA… [comment]` line; surrounding whitespace is ignored
 * and the comment may contain spaces.
 *
 * @throws {RojError} `bad_input` if the line is not an ed25519 public key.
 */
export function parsePublicKeyLine(line: string): { publicKey: Uint8Array; comment: string } {
  const m = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line.trim());
  if (m === null) throw new RojError("bad_input", `not an OpenSSH public key line: ${clip(line)}`);
  const [, type, b64, comment = ""] = m;
  if (type !== KEY_TYPE) {
    throw new RojError("bad_input", `not an ed25519 public key: ${clip(type!)}`);
  }
  let blob: Uint8Array;
  try {
    blob = base64.decode(b64!);
  } catch (err) {
    throw new RojError("bad_input", `public key is not valid base64: ${clip(b64!)}`, {
      cause: err,
    });
  }
  return { publicKey: parsePublicKeyBlob(blob), comment: comment.trim() };
}
