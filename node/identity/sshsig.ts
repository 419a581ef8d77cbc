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
import { createHash } from "node:crypto";
import { RojError } from "../errors.ts";
import { bytesEqual, WireReader, WireWriter } from "../wire/mod.ts";
import { armor, dearmor } from "./_armor.ts";
import { clip } from "./_util.ts";
import { CERT_KEY_TYPE, type Certificate, parseCertificate } from "./certificate.ts";
import { KEY_TYPE, parsePublicKeyBlob, publicKeyBlob } from "./keys.ts";
import { type Signer, type Verifier, verifyEd25519 } from "./signer.ts";

/** The namespaces of every signature Roj makes (defined with every other label in labels.ts). */
export { NAMESPACES } from "./labels.ts";

/** A hash algorithm SSHSIG allows. */
export type SshsigHash = "sha256" | "sha512";

/** The parts of an SSHSIG blob. */
export interface ParsedSshsig {
  /** The signer's 32-byte raw ed25519 public key (the certified key, when a certificate signed). */
  readonly publicKey: Uint8Array;
  /**
   * The certificate the signature names instead of a plain key, as `ssh-keygen
   * -Y sign -f key-cert.pub` writes it; parsed, not checked (see checkCertificate).
   */
  readonly certificate?: Certificate;
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
const VERSION = 1;
const LABEL = "SSH SIGNATURE";

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
  certificate?: Certificate,
): Promise<Uint8Array> {
  if (namespace === "") throw new RangeError("SSHSIG namespace must not be empty");
  if (certificate !== undefined && !bytesEqual(certificate.publicKey, signer.publicKey)) {
    throw new RangeError("the certificate is for another key than the signer's");
  }
  const toSign = signedData(namespace, "sha512", hash("sha512", message));
  const sig = await signer.sign(toSign);
  const layout = certificate === undefined ? blobLayout(namespace) : null;
  if (layout !== null && signer.publicKey.length === 32 && sig.length === 64) {
    const out = layout.template.slice();
    out.set(signer.publicKey, KEY_AT);
    out.set(sig, layout.sigAt);
    return out;
  }
  return new WireWriter().raw(MAGIC).u32(VERSION)
    .string(certificate?.blob ?? publicKeyBlob(signer.publicKey))
    .string(namespace).string("").string("sha512")
    .string(new WireWriter().string(KEY_TYPE).string(sig).bytes())
    .bytes();
}

/**
 * A payload and `signer`'s SSHSIG over it in `namespace`, packed as two SSH
 * strings (string payload, string sshsig): how Roj's signed statements travel
 * (invites, cards, device link codes, revocations). {@linkcode unpackSigned}
 * splits one again.
 */
export async function signPacked(
  signer: Signer,
  namespace: string,
  payload: Uint8Array,
): Promise<Uint8Array> {
  const sig = await signSshsig(signer, namespace, payload);
  return new WireWriter().string(payload).string(sig).bytes();
}

/**
 * The payload and the SSHSIG of a packed statement (see {@linkcode signPacked}),
 * not yet checked.
 *
 * @throws {RojError} `bad_input` naming `what` unless `bytes` are exactly two strings.
 */
export function unpackSigned(
  bytes: Uint8Array,
  what: string,
): { payload: Uint8Array; sig: Uint8Array } {
  const r = new WireReader(bytes, what);
  const payload = r.string();
  const sig = r.string();
  r.end();
  return { payload, sig };
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
  const keyBlob = r.string();
  const certificate = isCertificateBlob(keyBlob) ? parseCertificate(keyBlob) : undefined;
  const publicKey = certificate?.publicKey ?? parsePublicKeyBlob(keyBlob);
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
  const parsed: ParsedSshsig = {
    publicKey,
    namespace,
    hashAlgorithm,
    signature: signature.slice(),
  };
  return certificate === undefined ? parsed : { ...parsed, certificate };
}

const CERT_TYPE_PREFIX = new WireWriter().string(CERT_KEY_TYPE).bytes();

/** Whether a key blob is a certificate (starts with the certificate's type string). */
function isCertificateBlob(blob: Uint8Array): boolean {
  return blob.length >= CERT_TYPE_PREFIX.length &&
    bytesEqual(blob.subarray(0, CERT_TYPE_PREFIX.length), CERT_TYPE_PREFIX);
}

/**
 * Whether an SSHSIG blob's key is a certificate, read from its head alone
 * (magic, version, the key blob's type): false for a plain key or a blob too
 * short to say. A push of 1,000 entries asks this of each; parseSshsig, for
 * the few that say yes, still checks the whole blob.
 */
export function sshsigNamesCertificate(blob: Uint8Array): boolean {
  const at = MAGIC.length + 4; // the key blob's length, after the magic and the version
  if (blob.length < at + 4 || !bytesEqual(blob.subarray(0, MAGIC.length), MAGIC)) return false;
  const len = (blob[at]! << 24 | blob[at + 1]! << 16 | blob[at + 2]! << 8 | blob[at + 3]!) >>> 0;
  const key = blob.subarray(at + 4, at + 4 + len);
  return key.length === len && isCertificateBlob(key);
}

/**
 * Checks an SSHSIG blob over `message` in `namespace`. Returns the signer's key
 * (and the certificate the blob names, which the caller must still check with
 * checkCertificate), or null when the blob is malformed, the namespace or key
 * differs, or the signature is invalid. Never throws for bad input.
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
): Promise<{ publicKey: Uint8Array; certificate?: Certificate } | null> {
  const check = sshsigCheck(blob, namespace, message, opts.publicKey);
  if (check === null) return null;
  const ok = opts.verifier === undefined
    ? await verifyEd25519(check.publicKey, check.signature, check.data)
    : await opts.verifier.verify(check.publicKey, check.signature, check.data);
  if (!ok) return null;
  return check.certificate === undefined
    ? { publicKey: check.publicKey }
    : { publicKey: check.publicKey, certificate: check.certificate };
}

/** The Ed25519 check an SSHSIG blob stands for: by this key, this signature over these bytes. */
export interface SshsigCheck {
  /** The signer's 32-byte raw public key. */
  readonly publicKey: Uint8Array;
  /** The 64-byte raw Ed25519 signature. */
  readonly signature: Uint8Array;
  /** The bytes the signature must cover (the SSHSIG signed data for `message`). */
  readonly data: Uint8Array;
  /** The certificate the blob names, if any: the caller decides whether its CA counts. */
  readonly certificate?: Certificate;
}

/**
 * Everything {@linkcode verifySshsig} does except the Ed25519 verification
 * itself: parses the blob, checks the namespace and (when given) the key, and
 * hashes `message` into the signed data. Null when {@linkcode verifySshsig}
 * would return null before verifying. For hot paths that verify in batches or
 * elsewhere (a worker); never throws for bad input.
 */
export function sshsigCheck(
  blob: Uint8Array,
  namespace: string,
  message: Uint8Array,
  publicKey?: Uint8Array,
): SshsigCheck | null {
  // Fast path: with the key known, a valid blob has exactly one layout.
  const layout = publicKey?.length === 32 ? blobLayout(namespace) : null;
  if (layout !== null && blob.length === layout.template.length) {
    const alg = matchLayout(blob, layout, publicKey!);
    if (alg === null) return null;
    return {
      publicKey: publicKey!,
      signature: blob.subarray(layout.sigAt, layout.sigAt + 64),
      data: signedData(namespace, alg, hash(alg, message)),
    };
  }
  let sig: ParsedSshsig;
  try {
    sig = parseSshsig(blob);
  } catch {
    return null;
  }
  if (sig.namespace !== namespace) return null;
  if (publicKey !== undefined && !bytesEqual(publicKey, sig.publicKey)) return null;
  const check = {
    publicKey: sig.publicKey,
    signature: sig.signature,
    data: signedData(namespace, sig.hashAlgorithm, hash(sig.hashAlgorithm, message)),
  };
  return sig.certificate === undefined ? check : { ...check, certificate: sig.certificate };
}

/**
 * A valid blob by a given key in a given namespace is fixed but for the hash
 * name and the signature (see the layout at the top):
 *
 *   0 magic, 6 version, 10 key blob (33 the key), 65 namespace,
 *   65+4+n reserved, 73+n hash name (77+n its 6 letters),
 *   83+n signature blob (106+n the 64 signature bytes), 170+n end.
 */
interface BlobLayout {
  /** A blob with a zero key and signature and hash "sha512". */
  readonly template: Uint8Array;
  readonly algAt: number;
  readonly sigAt: number;
}

const KEY_AT = 33;
const layouts = new Map<string, BlobLayout | null>();
/** Namespaces are a few constants; anything beyond this many is not cached. */
const MAX_LAYOUTS = 32;

/** The layout for an ASCII namespace; null for others (they take the general path). */
function blobLayout(namespace: string): BlobLayout | null {
  let layout = layouts.get(namespace);
  if (layout !== undefined) return layout;
  layout = null;
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]+$/.test(namespace)) {
    const template = new WireWriter().raw(MAGIC).u32(VERSION)
      .string(publicKeyBlob(new Uint8Array(32)))
      .string(namespace).string("").string("sha512")
      .string(new WireWriter().string(KEY_TYPE).string(new Uint8Array(64)).bytes())
      .bytes();
    const n = namespace.length;
    layout = { template, algAt: 77 + n, sigAt: 106 + n };
  }
  if (layouts.size < MAX_LAYOUTS) layouts.set(namespace, layout);
  return layout;
}

/** The blob's hash algorithm when it fits the layout and names `publicKey`, else null. */
function matchLayout(
  blob: Uint8Array,
  layout: BlobLayout,
  publicKey: Uint8Array,
): SshsigHash | null {
  const t = layout.template;
  for (let i = 0; i < KEY_AT; i++) if (blob[i] !== t[i]) return null;
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= blob[KEY_AT + i]! ^ publicKey[i]!;
  if (diff !== 0) return null;
  for (let i = KEY_AT + 32; i < layout.algAt + 3; i++) if (blob[i] !== t[i]) return null;
  // "sha256" or "sha512": the same first three letters.
  const a = blob[layout.algAt + 3], b = blob[layout.algAt + 4], c = blob[layout.algAt + 5];
  const alg = a === 0x32 && b === 0x35 && c === 0x36 // "256"
    ? "sha256"
    : a === 0x35 && b === 0x31 && c === 0x32 // "512"
    ? "sha512"
    : null;
  if (alg === null) return null;
  for (let i = layout.algAt + 6; i < layout.sigAt; i++) if (blob[i] !== t[i]) return null;
  return alg;
}

/** Per hash, then namespace: the signed data up to the digest. */
const prefixes = { sha256: new Map<string, Uint8Array>(), sha512: new Map<string, Uint8Array>() };

/**
 * The bytes the Ed25519 signature covers:
 * byte[6] "SSHSIG", string namespace, string "", string alg, string digest.
 * Runs for every log entry verified, so the part before the digest is kept.
 */
function signedData(namespace: string, alg: SshsigHash, digest: Uint8Array): Uint8Array {
  const cache = prefixes[alg];
  let prefix = cache.get(namespace);
  if (prefix === undefined) {
    const full = new WireWriter().raw(MAGIC).string(namespace).string("").string(alg)
      .string(digest).bytes();
    prefix = full.slice(0, full.length - digest.length);
    if (cache.size < MAX_LAYOUTS) cache.set(namespace, prefix);
  }
  const out = new Uint8Array(prefix.length + digest.length);
  out.set(prefix);
  out.set(digest, prefix.length);
  return out;
}

/** The message's digest: native and synchronous (node:crypto), for any size. */
function hash(alg: SshsigHash, message: Uint8Array): Uint8Array {
  return createHash(alg).update(message).digest();
}
