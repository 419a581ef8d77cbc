/**
 * SSHSIG, the signature format of `ssh-keygen -Y sign` (OpenSSH PROTOCOL.sshsig),
 * so that anyone can check a Roj signature with stock `ssh-keygen -Y verify`.
 *
 *   blob:        byte[6] "SSHSIG", uint32 version = 1, string public key blob,
 *                string namespace, string reserved = "", string hash algorithm,
 *                string signature blob (string "ssh-ed25519", string sig[64])
 *   signed data: byte[6] "SSHSIG", string namespace, string reserved = "",
 *                string hash algorithm, string H(message)
 *
 * Roj signs with sha512 (as ssh-keygen does) and accepts sha256 and sha512.
 * Unlike OpenSSH, a non-empty reserved field is refused, so a valid
 * signature has exactly one encoding.
 */
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { RojError } from "../errors.ts";
import { bytesEqual, WireReader, WireWriter } from "../wire/mod.ts";
import { armor, dearmor } from "./_armor.ts";
import { clip, toBufferSource } from "./_util.ts";
import { KEY_TYPE, parsePublicKeyBlob, publicKeyBlob } from "./keys.ts";
import { type Signer, type Verifier, verifyEd25519 } from "./signer.ts";

/** The namespaces of every signature Roj makes; one per purpose. */
export const NAMESPACES = { entry: "roj-entry", addr: "roj-addr", invite: "roj-invite" } as const;

/** A hash algorithm SSHSIG allows. */
export type SshsigHash = "sha256" | "sha512";

/** The parts of an SSHSIG blob. */
export interface ParsedSshsig {
  /** The signer's 32-byte raw ed25519 public key. */
  readonly publicKey: Uint8Array;
  readonly namespace: string;
  readonly hashAlgorithm: SshsigHash;
  /** The 64-byte raw Ed25519 signature. */
  readonly signature: Uint8Array;
}

/** Options for {@linkcode verifySshsig}. */
export interface VerifySshsigOptions {
  /** Accept only signatures by this 32-byte key. @default any key */
  publicKey?: Uint8Array;
  /** Checks the raw signature; pass a cached one on hot paths. @default verifyEd25519 */
  verifier?: Verifier;
}

const encoder = new TextEncoder();
const MAGIC = encoder.encode("SSHSIG");
const SHA256 = encoder.encode("sha256");
const SHA512 = encoder.encode("sha512");
const EMPTY = new Uint8Array();
const VERSION = 1;
const LABEL = "SSH SIGNATURE";
/** Below this size noble's sync sha512 beats WebCrypto's per-call overhead. */
const WEBCRYPTO_HASH_MIN = 2048;

/**
 * Signs `message` under `namespace`, as `ssh-keygen -Y sign -n namespace` would.
 * Ed25519 is deterministic, so equal inputs give equal blobs.
 *
 * @example
 * ```ts
 * import { armorSshsig, createSigner, generateKeyPair, NAMESPACES, signSshsig } from "./mod.ts";
 *
 * const signer = await createSigner(await generateKeyPair("alice"));
 * const blob = await signSshsig(signer, NAMESPACES.entry, new TextEncoder().encode("hi"));
 * const text = armorSshsig(blob); // what `ssh-keygen -Y sign -n roj-entry` would write
 * ```
 * @throws {RangeError} if `namespace` is empty.
 */
export async function signSshsig(
  signer: Signer,
  namespace: string,
  message: Uint8Array,
): Promise<Uint8Array> {
  if (namespace === "") throw new RangeError("SSHSIG namespace must not be empty");
  const toSign = signedData(namespace, "sha512", await hash("sha512", message));
  const sig = await signer.sign(toSign);
  return new WireWriter().raw(MAGIC).u32(VERSION)
    .string(publicKeyBlob(signer.publicKey))
    .string(namespace).string("").string("sha512")
    .string(new WireWriter().string(KEY_TYPE).string(sig).bytes())
    .bytes();
}

/** The blob armoured exactly as ssh-keygen writes a `.sig` file. */
export function armorSshsig(blob: Uint8Array): string {
  return armor(LABEL, blob);
}

/**
 * The blob inside an armoured `-----BEGIN SSH SIGNATURE-----` text.
 *
 * @throws {RojError} `bad_input` if there is no such block or it is not base64.
 */
export function dearmorSshsig(text: string): Uint8Array {
  const blob = dearmor(LABEL, text);
  if (blob === null) {
    throw new RojError("bad_input", `not an armoured SSH signature: ${clip(text)}`);
  }
  return blob;
}

/**
 * Splits an SSHSIG blob into its parts, without checking the signature.
 *
 * @throws {RojError} `bad_input` on a wrong magic, version, key type, hash
 * algorithm or length, a non-empty reserved field, or trailing bytes.
 */
export function parseSshsig(blob: Uint8Array): ParsedSshsig {
  const r = new WireReader(blob, "SSH signature");
  if (!bytesEqual(r.raw(MAGIC.length), MAGIC)) {
    throw new RojError("bad_input", "SSH signature lacks the SSHSIG magic");
  }
  const version = r.u32();
  if (version !== VERSION) {
    throw new RojError("bad_input", `unsupported SSH signature version ${version}`);
  }
  const publicKey = parsePublicKeyBlob(r.string());
  const namespace = r.text();
  if (r.string().length !== 0) {
    throw new RojError("bad_input", "SSH signature has a non-empty reserved field");
  }
  const hashAlgorithm = r.text();
  if (hashAlgorithm !== "sha256" && hashAlgorithm !== "sha512") {
    throw new RojError("bad_input", `unsupported SSH signature hash ${clip(hashAlgorithm)}`);
  }
  const sigBlob = new WireReader(r.string(), "SSH signature blob");
  r.end();
  const type = sigBlob.text();
  if (type !== KEY_TYPE) throw new RojError("bad_input", `not an ed25519 signature: ${clip(type)}`);
  const signature = sigBlob.string();
  if (signature.length !== 64) {
    throw new RojError("bad_input", `ed25519 signature must be 64 bytes, got ${signature.length}`);
  }
  sigBlob.end();
  return { publicKey, namespace, hashAlgorithm, signature: signature.slice() };
}

/**
 * Checks an SSHSIG blob over `message` in `namespace`. Returns the signer's key,
 * or null when the blob is malformed, the namespace or key differs, or the
 * signature is invalid. Never throws for bad input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSigner, generateKeyPair, NAMESPACES, signSshsig, verifySshsig } from "./mod.ts";
 *
 * const alice = await generateKeyPair("alice");
 * const bytes = new TextEncoder().encode("entry");
 * const blob = await signSshsig(await createSigner(alice), NAMESPACES.entry, bytes);
 * const opts = { publicKey: alice.publicKey };
 * assert.notEqual(await verifySshsig(blob, NAMESPACES.entry, bytes, opts), null);
 * assert.equal(await verifySshsig(blob, NAMESPACES.invite, bytes, opts), null);
 * ```
 */
export async function verifySshsig(
  blob: Uint8Array,
  namespace: string,
  message: Uint8Array,
  opts: VerifySshsigOptions = {},
): Promise<{ publicKey: Uint8Array } | null> {
  let sig: ParsedSshsig;
  try {
    sig = parseSshsig(blob);
  } catch {
    return null;
  }
  if (sig.namespace !== namespace) return null;
  if (opts.publicKey !== undefined && !bytesEqual(opts.publicKey, sig.publicKey)) return null;
  const data = signedData(namespace, sig.hashAlgorithm, await hash(sig.hashAlgorithm, message));
  const ok = opts.verifier === undefined
    ? await verifyEd25519(sig.publicKey, sig.signature, data)
    : await opts.verifier.verify(sig.publicKey, sig.signature, data);
  return ok ? { publicKey: sig.publicKey } : null;
}

/**
 * The bytes the Ed25519 signature covers. Same layout as WireWriter would give,
 * written by hand in one allocation: this runs for every log entry verified.
 */
function signedData(namespace: string, alg: SshsigHash, digest: Uint8Array): Uint8Array {
  const ns = encoder.encode(namespace);
  const out = new Uint8Array(MAGIC.length + 4 + ns.length + 4 + 4 + alg.length + 4 + digest.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  let at = MAGIC.length;
  const put = (bytes: Uint8Array) => {
    view.setUint32(at, bytes.length);
    out.set(bytes, at + 4);
    at += 4 + bytes.length;
  };
  put(ns);
  put(EMPTY); // reserved
  put(alg === "sha512" ? SHA512 : SHA256);
  put(digest);
  return out;
}

async function hash(alg: SshsigHash, message: Uint8Array): Promise<Uint8Array> {
  if (message.length < WEBCRYPTO_HASH_MIN) {
    return alg === "sha512" ? sha512(message) : sha256(message);
  }
  const name = alg === "sha512" ? "SHA-512" : "SHA-256";
  return new Uint8Array(await crypto.subtle.digest(name, toBufferSource(message)));
}
