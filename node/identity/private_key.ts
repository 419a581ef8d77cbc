/**
 * OpenSSH private key files ("openssh-key-v1", PROTOCOL.key in OpenSSH):
 *
 *   "-----BEGIN OPENSSH PRIVATE KEY-----" / base64 in 70-column lines / "-----END …"
 *
 *   byte[15] "openssh-key-v1\0"
 *   string   ciphername        "none" | "aes256-ctr" | …
 *   string   kdfname           "none" | "bcrypt"
 *   string   kdfoptions        "" | (string salt, uint32 rounds)
 *   uint32   number of keys    always 1
 *   string   public key blob
 *   string   private section, encrypted unless ciphername is "none"
 *   byte[]   AEAD tag          only for aes*-gcm@openssh.com
 *
 *   private section:
 *   uint32 checkint, uint32 checkint (equal; random), string "ssh-ed25519",
 *   string pub (32), string seed||pub (64), string comment, padding 1,2,3,…
 *   up to the cipher's block size (8 when unencrypted).
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { isRojError, RojError } from "../errors.ts";
import { bytesEqual, WireReader, WireWriter } from "../wire/mod.ts";
import { armor, dearmor } from "./_armor.ts";
import {
  decryptSection,
  DEFAULT_KEY_CIPHER,
  deriveKeyIv,
  encryptSection,
  findKeyCipher,
  type KeyCipher,
} from "./_key_cipher.ts";
import { clip } from "./_util.ts";
import { KEY_TYPE, type KeyPair, parsePublicKeyBlob, publicKeyBlob } from "./keys.ts";
import { checkKeyType } from "./agent.ts";

const LABEL = "OPENSSH PRIVATE KEY";
const MAGIC = new TextEncoder().encode("openssh-key-v1\0");
const SALT_LEN = 16;

/** Options for {@linkcode encodePrivateKey}. */
export interface EncodePrivateKeyOptions {
  /** Encrypt with aes256-ctr under this passphrase; "" means unencrypted. @default undefined */
  passphrase?: string;
  /** bcrypt_pbkdf rounds, as `ssh-keygen -a`. @default 16 */
  rounds?: number;
}

/**
 * Writes `kp` as an OpenSSH private key file, the same bytes layout
 * `ssh-keygen -t ed25519` writes (so `ssh-keygen -y -f` reads it).
 *
 * @example
 * ```ts
 * import { encodePrivateKey, generateKeyPair } from "./mod.ts";
 *
 * const kp = await generateKeyPair("alice@laptop");
 * const text = await encodePrivateKey(kp, { passphrase: "secret" });
 * // await Deno.writeTextFile("id_ed25519", text, { mode: 0o600 });
 * ```
 * @throws {RangeError} if the key is not 32+32 bytes or `rounds` is not a positive integer.
 */
export async function encodePrivateKey(
  kp: KeyPair,
  opts: EncodePrivateKeyOptions = {},
): Promise<string> {
  if (kp.seed.length !== 32) {
    throw new RangeError(`ed25519 seed must be 32 bytes, got ${kp.seed.length}`);
  }
  const passphrase = opts.passphrase ?? "";
  const rounds = opts.rounds ?? 16;
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`rounds must be ≥ 1, got ${rounds}`);
  }
  const cipher = passphrase === "" ? undefined : DEFAULT_KEY_CIPHER;
  const pub = publicKeyBlob(kp.publicKey);

  const check = crypto.getRandomValues(new Uint32Array(1))[0]!;
  const section = new WireWriter().u32(check).u32(check)
    .string(KEY_TYPE).string(kp.publicKey)
    .string(new Uint8Array([...kp.seed, ...kp.publicKey]))
    .string(kp.comment);
  const blockSize = cipher?.blockSize ?? 8;
  const unpadded = section.bytes().length;
  for (let i = 1; (unpadded + i - 1) % blockSize !== 0; i++) section.u8(i);
  const plain = section.bytes();

  const out = new WireWriter().raw(MAGIC);
  if (cipher === undefined) {
    out.string("none").string("none").string("").u32(1).string(pub).string(plain);
  } else {
    const salt = crypto.getRandomValues(new Uint8Array(SALT_LEN));
    const { key, iv } = deriveKeyIv(cipher, passphrase, salt, rounds);
    const sealed = await encryptSection(cipher, key, iv, plain);
    const body = sealed.subarray(0, plain.length);
    const kdfOptions = new WireWriter().string(salt).u32(rounds).bytes();
    out.string(cipher.name).string("bcrypt").string(kdfOptions).u32(1).string(pub).string(body)
      .raw(sealed.subarray(plain.length));
  }
  return armor(LABEL, out.bytes());
}

/**
 * Reads an OpenSSH ed25519 private key file, decrypting it when it is protected
 * (aes{128,192,256}-ctr or aes{128,256}-gcm@openssh.com with bcrypt).
 * Checks that the public key matches the seed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodePrivateKey, encodePrivateKey, generateKeyPair } from "./mod.ts";
 *
 * const kp = await generateKeyPair("alice");
 * const text = await encodePrivateKey(kp, { passphrase: "secret", rounds: 1 });
 * assert.deepEqual(await decodePrivateKey(text, "secret"), kp);
 * ```
 * @throws {RojError} `key_malformed` for anything that is not a well-formed,
 * supported ed25519 key; `key_passphrase_required` if it is encrypted and no
 * (or an empty) passphrase was given; `key_bad_passphrase` if the passphrase is wrong.
 */
export async function decodePrivateKey(text: string, passphrase?: string): Promise<KeyPair> {
  const outer = readOuter(text);
  const { cipher, publicKey } = outer;
  let plain = outer.section;
  if (cipher !== undefined) {
    if (passphrase === undefined || passphrase === "") {
      throw new RojError(
        "key_passphrase_required",
        "the private key is encrypted; a passphrase is needed",
      );
    }
    const { key, iv } = deriveKeyIv(cipher, passphrase, outer.salt, outer.rounds);
    try {
      plain = await decryptSection(cipher, key, iv, outer.section);
    } catch (cause) {
      throw new RojError("key_bad_passphrase", "wrong passphrase for the private key", { cause });
    }
  }
  return malformedOnBadInput(() => readSection(plain, cipher, publicKey));
}

/**
 * Whether `text` is an OpenSSH private key file protected by a passphrase.
 * False for unencrypted keys and for anything unreadable.
 */
export function isEncryptedPrivateKey(text: string): boolean {
  try {
    return readOuter(text).cipher !== undefined;
  } catch {
    return false;
  }
}

/**
 * The public key of an OpenSSH private key file, read without its passphrase
 * (that part of the file is not encrypted).
 * @throws {RojError} key_unsupported for a FIDO (sk-) key; key_malformed for
 * anything else that is not an ed25519 key file.
 */
export function publicKeyOfKeyFile(text: string): Uint8Array {
  try {
    return readOuter(text).publicKey;
  } catch (err) {
    // Say why a security key's file is refused, rather than only "not ed25519".
    const bytes = dearmor(LABEL, text);
    if (bytes !== null) {
      try {
        const r = new WireReader(bytes, "private key file");
        r.raw(MAGIC.length);
        for (let i = 0; i < 3; i++) r.string(); // cipher, KDF, KDF options
        r.u32(); // the number of keys
        checkKeyType(new WireReader(r.string(), "public key").text());
      } catch (refusal) {
        if (isRojError(refusal, "key_unsupported")) throw refusal;
      }
    }
    throw err;
  }
}

interface OuterKey {
  readonly cipher: KeyCipher | undefined;
  readonly salt: Uint8Array;
  readonly rounds: number;
  readonly publicKey: Uint8Array;
  /** The private section, with the GCM tag appended when there is one. */
  readonly section: Uint8Array;
}

function readOuter(text: string): OuterKey {
  const bytes = dearmor(LABEL, text);
  if (bytes === null) {
    throw new RojError(
      "key_malformed",
      `not an OpenSSH private key (no valid "-----BEGIN ${LABEL}-----" block)`,
    );
  }
  return malformedOnBadInput(() => {
    const r = new WireReader(bytes, "private key file");
    if (!bytesEqual(r.raw(MAGIC.length), MAGIC)) {
      fail("private key file lacks the openssh-key-v1 magic");
    }
    const cipherName = r.text();
    const kdfName = r.text();
    const kdfOptions = r.string();
    if (r.u32() !== 1) fail("private key file must hold exactly one key");
    const publicKey = parsePublicKeyBlobAsKey(r.string());
    const section = r.string();
    if (cipherName === "none") {
      if (kdfName !== "none" || kdfOptions.length !== 0) {
        fail(`unencrypted key has KDF ${clip(kdfName)}`);
      }
      r.end();
      return { cipher: undefined, salt: new Uint8Array(), rounds: 0, publicKey, section };
    }
    const cipher = findKeyCipher(cipherName);
    if (cipher === undefined) fail(`unsupported private key cipher ${clip(cipherName)}`);
    if (kdfName !== "bcrypt") fail(`unsupported private key KDF ${clip(kdfName)}`);
    const kdf = new WireReader(kdfOptions, "bcrypt KDF options");
    const salt = kdf.string();
    const rounds = kdf.u32();
    kdf.end();
    if (salt.length === 0 || rounds < 1) fail("bcrypt KDF options are invalid");
    if (section.length % cipher.blockSize !== 0) fail("encrypted private section is misaligned");
    const tag = r.raw(cipher.tagLen);
    r.end();
    const withTag = new Uint8Array([...section, ...tag]);
    return { cipher, salt, rounds, publicKey, section: withTag };
  });
}

function readSection(
  plain: Uint8Array,
  cipher: KeyCipher | undefined,
  publicKey: Uint8Array,
): KeyPair {
  if (plain.length % (cipher?.blockSize ?? 8) !== 0) fail("private section is misaligned");
  const r = new WireReader(plain, "private key section");
  if (r.u32() !== r.u32()) {
    if (cipher !== undefined) {
      throw new RojError("key_bad_passphrase", "wrong passphrase for the private key");
    }
    fail("private key check-ints differ");
  }
  const type = r.text();
  if (type !== KEY_TYPE) fail(`not an ed25519 private key: ${clip(type)}`);
  const pub = r.string();
  const priv = r.string();
  const comment = r.text();
  for (let i = 1; r.remaining > 0; i++) {
    if (r.u8() !== (i & 0xff)) fail("private key padding is wrong");
  }
  if (pub.length !== 32 || priv.length !== 64) fail("ed25519 key has the wrong length");
  const seed = priv.slice(0, 32);
  if (
    !bytesEqual(pub, publicKey) || !bytesEqual(priv.subarray(32), pub) ||
    !bytesEqual(ed25519.getPublicKey(seed), pub)
  ) {
    fail("private key does not match its public key");
  }
  return { publicKey: pub.slice(), seed, comment };
}

function parsePublicKeyBlobAsKey(blob: Uint8Array): Uint8Array {
  try {
    return parsePublicKeyBlob(blob);
  } catch (err) {
    if (isRojError(err)) fail(err.message);
    throw err;
  }
}

/** Runs `f`, turning wire-level `bad_input` errors into `key_malformed`. */
function malformedOnBadInput<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (isRojError(err, "bad_input")) {
      throw new RojError("key_malformed", `private key is malformed: ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  }
}

function fail(message: string): never {
  throw new RojError("key_malformed", message);
}
