/**
 * The ciphers and KDF OpenSSH uses to protect private key files. The KDF is
 * bcrypt_pbkdf (OpenBSD), producing key || iv for the cipher; AES runs on WebCrypto.
 * CBC modes and chacha20-poly1305@openssh.com are not supported.
 */
import bcrypt from "bcrypt-pbkdf";
import { toBufferSource } from "./_util.ts";

/** How one OpenSSH key cipher is parameterised. */
export interface KeyCipher {
  readonly name: string;
  readonly mode: "AES-CTR" | "AES-GCM";
  readonly keyLen: number;
  readonly ivLen: number;
  /** The private section is padded to a multiple of this. */
  readonly blockSize: number;
  /** Bytes of authentication tag stored after the encrypted section. */
  readonly tagLen: number;
}

const CIPHERS: readonly KeyCipher[] = [
  { name: "aes128-ctr", mode: "AES-CTR", keyLen: 16, ivLen: 16, blockSize: 16, tagLen: 0 },
  { name: "aes192-ctr", mode: "AES-CTR", keyLen: 24, ivLen: 16, blockSize: 16, tagLen: 0 },
  { name: "aes256-ctr", mode: "AES-CTR", keyLen: 32, ivLen: 16, blockSize: 16, tagLen: 0 },
  {
    name: "aes128-gcm@openssh.com",
    mode: "AES-GCM",
    keyLen: 16,
    ivLen: 12,
    blockSize: 16,
    tagLen: 16,
  },
  {
    name: "aes256-gcm@openssh.com",
    mode: "AES-GCM",
    keyLen: 32,
    ivLen: 12,
    blockSize: 16,
    tagLen: 16,
  },
];

/** The cipher called `name`, or undefined when Roj cannot read it. */
export function findKeyCipher(name: string): KeyCipher | undefined {
  return CIPHERS.find((c) => c.name === name);
}

/** The cipher Roj writes, as ssh-keygen does by default. */
export const DEFAULT_KEY_CIPHER: KeyCipher = findKeyCipher("aes256-ctr")!;

/**
 * bcrypt_pbkdf(passphrase, salt, rounds) → cipher key and iv.
 *
 * @throws {RangeError} for an empty passphrase or salt, or rounds < 1.
 */
export function deriveKeyIv(
  cipher: KeyCipher,
  passphrase: string,
  salt: Uint8Array,
  rounds: number,
): { key: Uint8Array; iv: Uint8Array } {
  const pass = new TextEncoder().encode(passphrase);
  const out = new Uint8Array(cipher.keyLen + cipher.ivLen);
  const rc = bcrypt.pbkdf(pass, pass.length, salt, salt.length, out, out.length, rounds);
  if (rc !== 0) throw new RangeError(`bcrypt_pbkdf refused its input (rounds ${rounds})`);
  return { key: out.subarray(0, cipher.keyLen), iv: out.subarray(cipher.keyLen) };
}

/** Encrypts the private section; for GCM the tag is appended. */
export async function encryptSection(
  cipher: KeyCipher,
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  const k = await importAes(cipher, key, "encrypt");
  return new Uint8Array(await crypto.subtle.encrypt(params(cipher, iv), k, toBufferSource(data)));
}

/**
 * Decrypts the private section (with its GCM tag appended, if any).
 *
 * @throws {DOMException} `OperationError` when a GCM tag does not match.
 */
export async function decryptSection(
  cipher: KeyCipher,
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  const k = await importAes(cipher, key, "decrypt");
  return new Uint8Array(await crypto.subtle.decrypt(params(cipher, iv), k, toBufferSource(data)));
}

function importAes(cipher: KeyCipher, key: Uint8Array, use: KeyUsage): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", toBufferSource(key), cipher.mode, false, [use]);
}

function params(cipher: KeyCipher, iv: Uint8Array): AesCtrParams | AesGcmParams {
  // OpenSSH's aesctr increments the whole 16-byte block as one big-endian counter.
  return cipher.mode === "AES-CTR"
    ? { name: "AES-CTR", counter: toBufferSource(iv), length: 128 }
    : { name: "AES-GCM", iv: toBufferSource(iv), tagLength: 128 };
}
