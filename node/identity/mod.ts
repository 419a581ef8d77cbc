/**
 * Identity: OpenSSH ed25519 keys (in a file or in ssh-agent), fingerprints,
 * certificates, SSHSIG signatures, sealing to a key, and every
 * domain-separation label (labels.ts). The only import surface of
 * `node/identity/`.
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
  publicKeyOfKeyFile,
} from "./private_key.ts";
export { fingerprint, fingerprintLine } from "./fingerprint.ts";
export {
  CERT_KEY_TYPE,
  type Certificate,
  CERTIFICATE_LIMITS,
  type CertificateExpectation,
  type CertificateFields,
  type CertificateKind,
  certificateLine,
  type CertificateOption,
  type CertificateProblem,
  certificateValidity,
  checkCertificate,
  FOREVER,
  parseCertificate,
  parseCertificateLine,
  signCertificate,
} from "./certificate.ts";
export {
  createSigner,
  createVerifier,
  type Signer,
  type SyncSigner,
  type SyncVerifier,
  type Verifier,
  type VerifierOptions,
  verifyEd25519,
} from "./signer.ts";
export {
  armorSshsig,
  dearmorSshsig,
  type ParsedSshsig,
  parseSshsig,
  signPacked,
  signSshsig,
  type SshsigCheck,
  sshsigCheck,
  type SshsigHash,
  sshsigNamesCertificate,
  unpackSigned,
  verifySshsig,
  type VerifySshsigOptions,
} from "./sshsig.ts";
export {
  ADDR_RECORD_MAGIC,
  ADDR_RECORD_RELAYS_MAGIC,
  AGENT_AGREEMENT_LABEL,
  ALPN_PROBE,
  ALPN_SSH,
  BACKUP_FORMAT,
  CARD_MAGIC,
  CARD_TEXT_PREFIX,
  CARD_V2_MAGIC,
  CARD_V2_TEXT_PREFIX,
  DEVICE_AGREE_CONTEXT,
  DEVICE_LINK_MAGIC,
  DEVICE_LINK_PROOF_LABEL,
  DEVICE_LINK_TEXT_PREFIX,
  DEVICE_REVOCATION_MAGIC,
  DIRECT_CHAT_LABEL,
  DIRECT_MAIL_SALT,
  DIRECT_RECEIPT_MAGIC,
  ENTRY_MAGIC,
  FILE_ROOT_LABEL,
  GROUP_FILE_CHUNK_LABEL,
  GROUP_ID_LABEL,
  GROUP_KEY_SEAL_CONTEXT,
  GROUP_MSG_AAD_LABEL,
  INVITE_MAGIC,
  INVITE_TEXT_PREFIX,
  LAN_ANNOUNCEMENT_MAGIC,
  LAN_TAG_SALT,
  MAILBOX_ID_INFO,
  MAILBOX_KEY_INFO,
  MAILBOX_POINTER_ID_SALT,
  MAILBOX_POINTER_KEY_SALT,
  MAILBOX_POINTER_TAG_SALT,
  MAILBOX_SALT,
  MAILBOX_TAG_INFO,
  NAMESPACES,
  NOTES_CHAT_LABEL,
  PAIRWISE_SEAL_SALT,
  PAIRWISE_TAG_SALT,
  PERSON_AGREEMENT_LABEL,
  PERSON_INVITE_MAGIC,
  PUNCH_VOUCH_MAGIC,
  RELAY_SUBSYSTEM_PREFIX,
  ROJ_SUBSYSTEM,
  SAFETY_NUMBER_LABEL,
  SEAL_INFO,
  SSHSIG_ADDR_NAMESPACE,
  SSHSIG_DEVICE_NAMESPACE,
  SSHSIG_ENTRY_NAMESPACE,
  SSHSIG_INTRO_NAMESPACE,
  SSHSIG_INVITE_NAMESPACE,
  SSHSIG_PUNCH_NAMESPACE,
} from "./labels.ts";
export {
  formatSafetyNumber,
  keyDigits,
  SAFETY_NUMBER_DIGITS,
  safetyNumber,
} from "./safety_number.ts";
export {
  type AgentKey,
  checkKeyType,
  chooseAgentKey,
  listAgentKeys,
  MAX_AGENT_KEYS,
  MAX_AGENT_REPLY,
  SK_ED25519,
} from "./agent.ts";
export {
  type AgentSigner,
  type AgentSignerOptions,
  type AgentState,
  agreementSeed,
  createAgentSigner,
} from "./agent_signer.ts";
export {
  agreementKeyIsOwn,
  agreementPublicKey,
  openSealed,
  publishedAgreementKey,
  seal,
  type SealOptions,
  x25519SharedSecret,
} from "./seal.ts";
export { sharedSecretOf } from "./shared_secret.ts";
export { openXChaCha20Poly1305, XCHACHA_NATIVE } from "./xchacha.ts";
export {
  createVerifierPool,
  type Ed25519Check,
  type VerifierPool,
  type VerifierPoolOptions,
} from "./verifier_pool.ts";
export {
  DIRECT_ACK_SALT,
  OWN_MAIL_CONTACTS_MAGIC,
  OWN_MAIL_INVITES_MAGIC,
  OWN_MAIL_PREFS_MAGIC,
  OWN_MAIL_SALT,
} from "./labels.ts";
