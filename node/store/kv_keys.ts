/**
 * Every Deno KV key shape Roj writes, in one place. Authors are raw 32-byte
 * public keys (Uint8Array parts sort bytewise, which is the display order's
 * tie-break), numbers are safe integers.
 */
export const keys = {
  /** Schema version of this store. */
  schema: () => ["meta", "schema"] as const,
  /** Small settings of this node (name, key location). */
  setting: (name: string) => ["meta", "setting", name] as const,
  /** A chat's description: kind, name, members. */
  chat: (chat: string) => ["chat", chat] as const,
  chats: () => ["chat"] as const,
  /** Highest Lamport clock seen in a chat. */
  chatClock: (chat: string) => ["clock", chat] as const,
  /** An author's newest entry in a chat: { seq, hash, lamport }. */
  head: (chat: string, author: Uint8Array) => ["head", chat, author] as const,
  heads: (chat: string) => ["head", chat] as const,
  /** An entry by author and sequence (packed, see log/stored_entry.ts). */
  entry: (chat: string, author: Uint8Array, seq: number) => ["entry", chat, author, seq] as const,
  authorEntries: (chat: string, author: Uint8Array) => ["entry", chat, author] as const,
  entries: (chat: string) => ["entry", chat] as const,
  /**
   * Schema 1 only: a second copy of each entry under its display position
   * (Lamport, author, seq). Schema 2 sorts the authors' chains instead; the
   * migration deletes these.
   */
  ordered: (chat: string, lamport: number, author: Uint8Array, seq: number) =>
    ["order", chat, lamport, author, seq] as const,
  orderedAll: (chat: string) => ["order", chat] as const,
  allOrdered: () => ["order"] as const,
  /**
   * Before forks were bounded: every second, different entry for an
   * author+seq already taken. The log folds them into `fork` and deletes them.
   */
  conflict: (chat: string, author: Uint8Array, seq: number, hash: Uint8Array) =>
    ["conflict", chat, author, seq, hash] as const,
  conflicts: (chat: string) => ["conflict", chat] as const,
  /** An author's first fork in a chat: { seq, kept, twin, seen } (see log/fork_records.ts). */
  fork: (chat: string, author: Uint8Array) => ["fork", chat, author] as const,
  forks: (chat: string) => ["fork", chat] as const,
  /** The identity guard's state: conflicts of our own chain, chats re-basing (node/identity_guard). */
  identityGuard: () => ["identity", "guard"] as const,
  /** Our own entries of a chat set aside for a re-base, by their old seq (packed like `entry`). */
  aside: (chat: string, seq: number) => ["identity", "aside", chat, seq] as const,
  asideAll: (chat: string) => ["identity", "aside", chat] as const,
  /** A contact by public key. */
  contact: (publicKey: Uint8Array) => ["contact", publicKey] as const,
  contacts: () => ["contact"] as const,
  /** A contact marked verified, by public key: { number, at } (contacts/verifications.ts). */
  verified: (publicKey: Uint8Array) => ["verified", publicKey] as const,
  verifiedAll: () => ["verified"] as const,
  /** Set by a restore: our own writes to direct chats wait for the peer's heads (chats/restore_gate.ts). */
  restoreGate: () => ["meta", "restore-gate"] as const,
  /** A direct chat whose peer showed we hold all we wrote there: writes may go on. */
  restoreCleared: (chat: string) => ["meta", "restore-cleared", chat] as const,
  restoreClearedAll: () => ["meta", "restore-cleared"] as const,
  /** Our entries of a direct chat may reach its peer before their commit (chats/commit_overlap.ts). */
  overlapMark: (chat: string) => ["meta", "overlap", chat] as const,
  overlapMarks: () => ["meta", "overlap"] as const,
  /** An invite this node issued, by its nonce (hex): { expires, usesLeft }. */
  invite: (nonceHex: string) => ["invite", nonceHex] as const,
  /** Highest seq of our own entries in a chat that a peer has committed. */
  delivered: (chat: string, peer: Uint8Array) => ["delivered", chat, peer] as const,
  /** Highest seq of our own entries in a 1:1 chat that an anchor holds for the peer (1:1 mail). */
  anchored: (chat: string, peer: Uint8Array) => ["anchored", chat, peer] as const,
  /** Lamport clock up to which a person has read a chat. */
  readMark: (chat: string) => ["readmark", chat] as const,
  readMarks: () => ["readmark"] as const,
  /** Read receipts (node/chats/receipts.ts): false when off for everyone. */
  receiptsOn: () => ["meta", "setting", "receipts"] as const,
  /** Read receipts are off for this contact: true. */
  receiptsOff: (peer: Uint8Array) => ["receipts-off", peer] as const,
  /** Highest seq of our own entries in a direct chat the contact's receipt says they read. */
  readBy: (chat: string) => ["read-by", chat] as const,
  /** Highest seq of the contact's entries in a direct chat we have read (what our receipt says). */
  readOf: (chat: string) => ["read-of", chat] as const,
  /** A sealed address record held for others, by tag and uploader (hex): { blob, uploader, at }. */
  sealed: (tagHex: string, uploaderHex: string) => ["sealed", tagHex, uploaderHex] as const,
  sealedAll: () => ["sealed"] as const,
  /**
   * A group mailbox box held by an anchor, by tag (hex) and arrival number:
   * { id, up, at, size, part } and, for a box over one value, parts
   * [..., n, i] (i >= 1) beside it.
   */
  mbox: (tagHex: string, n: number) => ["mbox", tagHex, n] as const,
  mboxPart: (tagHex: string, n: number, i: number) => ["mbox", tagHex, n, i] as const,
  mboxTag: (tagHex: string) => ["mbox", tagHex] as const,
  mboxAll: () => ["mbox"] as const,
  /** The same box by arrival time, for expiry. */
  mboxAt: (at: number, tagHex: string, n: number) => ["mbox-at", at, tagHex, n] as const,
  mboxAtAll: () => ["mbox-at"] as const,
  /** The mailbox's generation (random hex, new when its data is lost) and next arrival number. */
  mboxMeta: (name: "gen" | "next") => ["meta", "mbox", name] as const,
  /** A member's place in an anchor's mailbox for a group: { gen, after }. */
  mboxCursor: (anchor: Uint8Array, chat: string) => ["mbox-cursor", anchor, chat] as const,
  /** Per author (hex), the highest seq this member handed an anchor for a group. */
  mboxPushed: (anchor: Uint8Array, chat: string) => ["mbox-pushed", anchor, chat] as const,
  /**
   * What this device handed an anchor for a sibling device (mailbox/own_mail.ts): per author the
   * highest seq of a direct chat; or the records' number ("contacts", "prefs"), or an invite's
   * form ("invite:<nonce>", own_mail_records.ts).
   */
  ownMailPushed: (anchor: Uint8Array, sibling: Uint8Array, chat: string) =>
    ["own-mail-pushed", anchor, sibling, chat] as const,
  /** Per author (hex), the highest seq of a direct chat a sibling device said it holds. */
  ownMailHeld: (sibling: Uint8Array, chat: string) => ["own-mail-held", sibling, chat] as const,
  /** A sibling device's hello when we last met it: whether it listed ownmail1, its agree key. */
  ownMailSibling: (sibling: Uint8Array) => ["own-mail-sibling", sibling] as const,
  /** This node's own signed address record (packed). */
  ownRecord: () => ["meta", "addr"] as const,
  /** The relays a contact's latest record names (node/relay): raw keys. */
  relaysOf: (peer: Uint8Array) => ["relay", "via", peer] as const,
  relaysOfAll: () => ["relay", "via"] as const,
  /** An introduction this node made, by id (hex) (node/introductions/introduction.ts Made). */
  introMade: (id: string) => ["intro", "made", id] as const,
  introsMade: () => ["intro", "made"] as const,
  /** An introduction offered to this node: the other person's card until it ends (Got). */
  introGot: (id: string) => ["intro", "got", id] as const,
  introsGot: () => ["intro", "got"] as const,
  /** A device link code this node made, by id (hex): { secret, expires, made, used? } (node/linking). */
  linkCode: (id: string) => ["devlink", id] as const,
  linkCodes: () => ["devlink"] as const,
  /** A device this node (holding the person key) certified: { certificate, linkedAt } (node/linking). */
  ownDevice: (key: Uint8Array) => ["device", "own", key] as const,
  ownDevices: () => ["device", "own"] as const,
  /** A contact's device certificate seen here, by person and device key: the blob (node/linking). */
  seenDevice: (person: Uint8Array, device: Uint8Array) =>
    ["device", "seen", person, device] as const,
  seenDevices: () => ["device", "seen"] as const,
  /** A contact's signed revocation of one of their devices, by person and device key (node/linking). */
  seenRevocation: (person: Uint8Array, device: Uint8Array) =>
    ["device", "revoked", person, device] as const,
  seenRevocations: () => ["device", "revoked"] as const,
  /** A chat's settings on this node, by chat id: { muted, pinned, archived } (node/prefs). */
  chatPrefs: (chat: string) => ["chat-prefs", chat] as const,
  chatPrefsAll: () => ["chat-prefs"] as const,
  /** This node's admin settings (node/prefs): { notifyPreview }. */
  settings: () => ["meta", "settings"] as const,
  /** A group this node is out of, deleted from the person's list (node/groups/hidden_groups.ts): true. */
  hiddenGroup: (id: string) => ["group-hidden", id] as const,
  hiddenGroups: () => ["group-hidden"] as const,
  /** How far we read a member's entries in a group (their seq), for our receipts (chats/group_receipts.ts). */
  groupReadOf: (group: string, member: Uint8Array) => ["group-read-of", group, member] as const,
  groupReadOfAll: () => ["group-read-of"] as const,
  /** How far a member read our entries in a group (our seq), as their receipts said. */
  groupReadBy: (group: string, member: Uint8Array) => ["group-read-by", group, member] as const,
  groupReadByAll: () => ["group-read-by"] as const,
  /**
   * A passive anchor's member, by its keyed hash (contacts/member_ids.ts):
   * { addedAt, lastSeen, blocked, recordSeq }, no key and no name.
   */
  member: (idHex: string) => ["member", idHex] as const,
  members: () => ["member"] as const,
  /**
   * A card imported while nobody who could pass it on was connected, by
   * introduction id: { id, card, person, name, maker, expires, at } (introductions/import_queue.ts).
   */
  introQueued: (id: string) => ["intro", "queued", id] as const,
  introsQueued: () => ["intro", "queued"] as const,
  /** On a passive anchor: a member's revoked device, by the member's and the device's ids (member_ids.ts): true. */
  revokedId: (personId: Uint8Array, deviceId: Uint8Array) =>
    ["device", "revoked-id", personId, deviceId] as const,
  revokedIds: () => ["device", "revoked-id"] as const,
  /** Where another device of this node's person listens, by its key: string[] (node/device_sync). */
  siblingAddresses: (key: Uint8Array) => ["devsync", "addr", key] as const,
  siblingsAddresses: () => ["devsync", "addr"] as const,
  /** A contact's device's own address record, by person and device key: { seq, addresses } (node/device_sync). */
  deviceRecord: (person: Uint8Array, device: Uint8Array) =>
    ["devsync", "rec", person, device] as const,
  deviceRecords: () => ["devsync", "rec"] as const,
  /** The person's last change to a contact, by its key: { key, state, name, addresses, anchor, at, seq, from? } (device_sync/contact_sync.ts). */
  contactRecord: (key: Uint8Array) => ["devsync", "contact", key] as const,
  contactRecords: () => ["devsync", "contact"] as const,
  /** The highest contact change seq a sibling took from us, by its key: number (device_sync/contact_sync.ts). */
  contactAck: (sibling: Uint8Array) => ["devsync", "cack", sibling] as const,
  /** When the sibling session with a device of ours was last up, by its key: ms (device_sync/sibling_rows.ts). */
  siblingSeen: (sibling: Uint8Array) => ["devsync", "seen", sibling] as const,
  siblingsSeen: () => ["devsync", "seen"] as const,
  /** A chat's settings and read mark as the person last left them, by chat id: { chat, muted, pinned, archived, at, read, seq, from? } (device_sync/prefs_sync.ts). */
  prefsRecord: (chat: string) => ["devsync", "prefs", chat] as const,
  prefsRecords: () => ["devsync", "prefs"] as const,
  /** The highest chat settings seq a sibling took from us, by its key: number (device_sync/prefs_sync.ts). */
  prefsAck: (sibling: Uint8Array) => ["devsync", "pack", sibling] as const,
  /** A group epoch key handed to this device by the person key's node: 32 bytes (groups/handed_keys.ts). */
  handedKey: (group: string, epoch: string) => ["devsync", "gkey", group, epoch] as const,
  handedKeys: () => ["devsync", "gkey"] as const,
  /** When every group was rekeyed for a removed device of ours: ms (device_sync/group_sync.ts). */
  groupsRekeyed: (device: Uint8Array) => ["devsync", "grekey", device] as const,
  /** On a device: the person's agreement keys handed to it, [{ gen, seed }] oldest first (device_sync/person_agreement.ts). */
  personAgreement: () => ["devsync", "pagree"] as const,
  /** Contacts' person agreement keys heard in hellos, by the person's key: 32 bytes (device_sync/person_agree_keys.ts). */
  personAgreeKey: (person: Uint8Array) => ["devsync", "pagreeof", person] as const,
  personAgreeKeys: () => ["devsync", "pagreeof"] as const,
} as const;
