/**
 * Identity: OpenSSH ed25519 keys, fingerprints, SSHSIG signatures and sealing
 * to a key. The only import surface of `node/identity/`.
 *
 * @module
 */
export {
  generateKeyPair,
  type KeyPair,
  parsePublicKeyBlob,
  parsePublicKeyLine,
  publicKeyBlob,
  publicKeyLine,
} from "./keys.ts";
export {
  decodePrivateKey,
  encodePrivateKey,
  type EncodePrivateKeyOptions,
  isEncryptedPrivateKey,
} from "./private_key.ts";
export { fingerprint, fingerprintLine } from "./fingerprint.ts";
export {
  createSigner,
  createVerifier,
  type Signer,
  type SyncVerifier,
  type Verifier,
  type VerifierOptions,
  verifyEd25519,
} from "./signer.ts";
export {
  armorSshsig,
  dearmorSshsig,
  NAMESPACES,
  type ParsedSshsig,
  parseSshsig,
  signSshsig,
  type SshsigCheck,
  sshsigCheck,
  type SshsigHash,
  verifySshsig,
  type VerifySshsigOptions,
} from "./sshsig.ts";
export { openSealed, seal, type SealOptions, x25519SharedSecret } from "./seal.ts";
export { openXChaCha20Poly1305, XCHACHA_NATIVE } from "./xchacha.ts";
export {
  createVerifierPool,
  type Ed25519Check,
  type VerifierPool,
  type VerifierPoolOptions,
} from "./verifier_pool.ts";
