/**
 * Every domain-separation label Roj puts into a signature, a key derivation,
 * a hash or a channel name, in one place.
 *
 * Each label keeps one purpose apart from every other: a signature over an
 * entry can never pass as one over an address record, a key derived for tags
 * never equals one derived for sealing, a hash that names a direct chat never
 * names a group. The bytes are part of the protocol and of every stored
 * signature: changing one silently breaks old data and old peers. So the
 * labels live here, each user imports its label instead of spelling it, and
 * labels_test.ts pins the exact bytes (hex) of every one. A new version of a
 * layout gets a new label beside the old one, never an edited one.
 *
 * All labels are ASCII; where a layout hashes a label and then variable parts,
 * the label ends in a NUL byte so that no label is a prefix of another's input.
 * The constants of OpenSSH's own formats ("SSHSIG", "openssh-key-v1\0", the
 * armour lines) are not Roj's to choose and stay beside their parsers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NAMESPACES, SSHSIG_ENTRY_NAMESPACE } from "./labels.ts";
 *
 * assert.equal(NAMESPACES.entry, SSHSIG_ENTRY_NAMESPACE); // ssh-keygen -Y verify -n roj-entry
 * ```
 *
 * @module
 */

// ---- SSHSIG namespaces (`ssh-keygen -Y sign -n <namespace>`) ----------------

/** Signatures over chat entries (log/entry.ts). */
export const SSHSIG_ENTRY_NAMESPACE = "roj-entry";
/** Signatures over address records (discovery/address_record.ts). */
export const SSHSIG_ADDR_NAMESPACE = "roj-addr";
/** Signatures over invites (contacts/invite.ts). */
export const SSHSIG_INVITE_NAMESPACE = "roj-invite";
/** Signatures over a person's statements about devices: link codes, revocations (devices/). */
export const SSHSIG_DEVICE_NAMESPACE = "roj-device";
/** Signatures over punch vouches: "the coordinator saw me at this endpoint" (punch/vouch.ts). */
export const SSHSIG_PUNCH_NAMESPACE = "roj-punch";
/** Signatures over an introducer's cards of a contact (introductions/card.ts). */
export const SSHSIG_INTRO_NAMESPACE = "roj-intro";
/** The namespaces of every signature Roj makes; one per purpose. */
export const NAMESPACES = {
  entry: SSHSIG_ENTRY_NAMESPACE,
  addr: SSHSIG_ADDR_NAMESPACE,
  invite: SSHSIG_INVITE_NAMESPACE,
  device: SSHSIG_DEVICE_NAMESPACE,
  punch: SSHSIG_PUNCH_NAMESPACE,
  intro: SSHSIG_INTRO_NAMESPACE,
} as const;

// ---- First field of each signed byte layout --------------------------------

/** An entry's canonical bytes start with this string (log/entry.ts). */
export const ENTRY_MAGIC = "roj-entry-v1";
/** An address record without relays (discovery/address_record.ts). */
export const ADDR_RECORD_MAGIC = "roj-addr-v1";
/** An address record that names relays (discovery/address_record.ts). */
export const ADDR_RECORD_RELAYS_MAGIC = "roj-addr-v2";
/** An invite's signed payload (contacts/invite.ts). */
export const INVITE_MAGIC = "roj-invite-v1";
/** What an invite's text starts with, before its base64url (contacts/invite.ts). */
export const INVITE_TEXT_PREFIX = "roj1:";
/**
 * An invite a person's device issued (contacts/person_invite.ts): it names the
 * person key and carries the device certificates, under the same text prefix.
 */
export const PERSON_INVITE_MAGIC = "roj-invite-v2";
/** A device link code's signed payload (devices/link_code.ts). */
export const DEVICE_LINK_MAGIC = "roj-devlink-v1";
/** What a device link code's text starts with, before its base64url (devices/link_code.ts). */
export const DEVICE_LINK_TEXT_PREFIX = "rojdev1:";
/** A device revocation's signed payload (devices/revocation.ts). */
export const DEVICE_REVOCATION_MAGIC = "roj-devrevoke-v1";
/**
 * A new device's proof that it holds a link code's secret: HMAC-SHA256 keyed
 * by the secret over this label, the new device's key and the linking
 * device's key (linking/link_proof.ts), so a proof is bound to both keys.
 */
export const DEVICE_LINK_PROOF_LABEL = "roj-devlink-proof-v1\0";
/** A punch asker's vouch for the endpoint its coordinator saw it at (punch/vouch.ts). */
export const PUNCH_VOUCH_MAGIC = "roj-punch-vouch-v1";
/** The `format` of a backup's manifest, inside its age encryption (backup/manifest.ts). */
export const BACKUP_FORMAT = "roj-backup-v1";
/** A card's signed payload: one contact, vouched for by an introducer (introductions/card.ts). */
export const CARD_MAGIC = "roj-card-v1";
/** What a shareable card's text starts with, before its base64url (introductions/card.ts). */
export const CARD_TEXT_PREFIX = "rojcard1:";
/**
 * A card that carries device certificates (introductions/card_v2.ts): its
 * introducer's device that signed it, and the devices of the person it names.
 */
export const CARD_V2_MAGIC = "roj-card-v2";
/** What a v2 card's text starts with, before its base64url (introductions/card_v2.ts). */
export const CARD_V2_TEXT_PREFIX = "rojcard2:";

// ---- Sealing to a key (identity/seal.ts) -----------------------------------

/** HKDF info of a sealed box's key; the caller's context follows it. */
export const SEAL_INFO = "roj-seal-v1";
/** Seal context of a group epoch key sealed to each member (groups/group_crypto.ts). */
export const GROUP_KEY_SEAL_CONTEXT = "roj-group-key";

/**
 * What an ssh-agent signs to give a node with an agent-held key its X25519
 * agreement seed (identity/agent_signer.ts): never an SSHSIG or SSH message.
 */
export const AGENT_AGREEMENT_LABEL = "roj-agent-agreement-v1\0";
/**
 * What the person key signs, with the generation appended, for the person's
 * agreement key (device_sync/person_agreement.ts): never an SSHSIG or SSH message.
 */
export const PERSON_AGREEMENT_LABEL = "roj-person-agreement-v1\0";
/** Seal context of the person's agreement secret handed to a device (devsync.agree). */
export const DEVICE_AGREE_CONTEXT = "roj-devagree-v1";

// ---- Pairwise derivations from two contacts' X25519 secret (discovery/pairwise.ts) ----

/** HKDF salt of the tag a sealed address record is filed under. */
export const PAIRWISE_TAG_SALT = "roj-tag-v1";
/** HKDF salt of the key a sealed address record is sealed with. */
export const PAIRWISE_SEAL_SALT = "roj-seal-v1";
/** HKDF salt of the rotating tags in LAN announcements. */
export const LAN_TAG_SALT = "roj-lan-v1";

// ---- Group mailbox (mailbox/mailbox_crypto.ts) ------------------------------

/** HKDF salt of an epoch's mailbox secret, from the epoch's group key. */
export const MAILBOX_SALT = "roj-mailbox-v2";
/** HKDF info, from the mailbox secret, of the tag the anchor files boxes under. */
export const MAILBOX_TAG_INFO = "tag";
/** HKDF info, from the mailbox secret, of the boxes' XChaCha20-Poly1305 key. */
export const MAILBOX_KEY_INFO = "key";
/** HKDF info, from the mailbox secret, of the key of box ids. */
export const MAILBOX_ID_INFO = "id";
/** HKDF salt, over a pairwise secret, of a pointer box's tag (mailbox/group_mailbox.ts). */
export const MAILBOX_POINTER_TAG_SALT = "roj-mbox-pointer-v1";
/** HKDF salt, over a pairwise secret, of a pointer box's key. */
export const MAILBOX_POINTER_KEY_SALT = "roj-mbox-pointer-key-v1";
/** HKDF salt, over a pairwise secret, of a pointer box's id key. */
export const MAILBOX_POINTER_ID_SALT = "roj-mbox-pointer-id-v1";
/**
 * HKDF salt, over a pairwise secret, of the mailbox secret of 1:1 mail to one
 * recipient in one time window (mailbox/direct_keys.ts); the tag, key and id
 * key then come from it as for a group epoch's.
 */
export const DIRECT_MAIL_SALT = "roj-dmail-v1";
/**
 * First bytes of a 1:1 mail receipt (mailbox/direct_keys.ts): the recipient
 * saying, in a box sealed to the sender, how far it holds the sender's chain.
 */
export const DIRECT_RECEIPT_MAGIC = "roj-dmail-receipt-v1";

// ---- Ids and associated data derived by hashing -----------------------------

/** SHA-256 prefix of a note-to-self chat id (log/chat_id.ts). */
export const NOTES_CHAT_LABEL = "roj-chat-notes\0";
/** SHA-256 prefix of a 1:1 chat id (log/chat_id.ts). */
export const DIRECT_CHAT_LABEL = "roj-chat-direct\0";
/** SHA-256 prefix of a group chat id (groups/group_id.ts). */
export const GROUP_ID_LABEL = "roj-group-id-v1\0";
/** Start of a group message's AEAD associated data (groups/group_crypto.ts). */
export const GROUP_MSG_AAD_LABEL = "roj-group-msg-v1\0";
/** SHA-512 prefix of a key's half of a safety number (identity/safety_number.ts). */
export const SAFETY_NUMBER_LABEL = "roj-safety-number-v1\0";
/** SHA-256 prefix of a file's root over its chunk hashes (files/manifest.ts). */
export const FILE_ROOT_LABEL = "roj-file-v1\0";
/** Start of a group file chunk's AEAD associated data (files/group_file_crypto.ts). */
export const GROUP_FILE_CHUNK_LABEL = "roj-group-file-chunk-v1\0";

// ---- Channel names ----------------------------------------------------------

/** The SSH subsystem that carries the Roj protocol (transport/ssh.ts). */
export const ROJ_SUBSYSTEM = "roj";
/** SSH subsystem names of relayed sessions: this, then the 32-hex-digit token (relay/relay.ts). */
export const RELAY_SUBSYSTEM_PREFIX = "roj-relay-";
/** QUIC ALPN of an SSH connection in a punched session (transport/quic.ts). */
export const ALPN_SSH = "roj-ssh/1";
/** QUIC ALPN of a punch probe (transport/quic.ts, punch/). */
export const ALPN_PROBE = "roj-probe/1";
/** First four bytes of a LAN announcement datagram (lan/announcement.ts). */
export const LAN_ANNOUNCEMENT_MAGIC = "RJL2";

// ---- 1:1 mail acknowledgements (issue 14) -------------------------------------

/**
 * HKDF salt of the token that lets a holder delete 1:1 mail boxes
 * (mailbox/direct_ack.ts): from the box key of one direction and week, so
 * only the two people can make it; the sender files SHA-256 of it with each box.
 */
export const DIRECT_ACK_SALT = "roj-dmail-ack-v1";

// ---- Mail between a person's own devices (issue 13) ---------------------------

/**
 * HKDF salt, over the X25519 secret of two of a person's device keys, of the
 * mailbox secret of what one device files at an anchor for the other in one
 * time window (mailbox/own_mail.ts); tag, key and id key as for 1:1 mail.
 */
export const OWN_MAIL_SALT = "roj-ownmail-v1";
/**
 * First bytes of a box of contact changes one device files for another
 * (mailbox/own_mail_contacts.ts), then the devsync.contacts params as JSON.
 */
export const OWN_MAIL_CONTACTS_MAGIC = "roj-ownmail-contacts-v1\0";
/**
 * First bytes of a box of chat settings and read marks one device files for
 * another (mailbox/own_mail_records.ts), then the devsync.prefs params as JSON.
 */
export const OWN_MAIL_PREFS_MAGIC = "roj-ownmail-prefs-v1\0";
/**
 * First bytes of a box of issued invites one device files for another
 * (mailbox/own_mail_records.ts), then the devsync.invites params as JSON.
 */
export const OWN_MAIL_INVITES_MAGIC = "roj-ownmail-invites-v1\0";
