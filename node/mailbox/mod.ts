/**
 * The group mailbox: anchors hold sealed group entries for members who are
 * offline, so two members who are never online together still converge. The
 * only import surface of `node/mailbox/`.
 *
 * - mailbox_crypto.ts: tags, box ids and sealing (what the anchor can and cannot learn)
 * - mailbox_store.ts: the anchor's bounded store (quotas, cap, expiry)
 * - anchor_mailbox.ts: the anchor serving it (mbox.put, mbox.get, mbox.notify)
 * - group_mailbox.ts: a member visiting its anchors, with mailbox_fetch.ts,
 *   mailbox_push.ts and mailbox_pointers.ts for the parts of a visit, and
 *   mail_epoch.ts and epoch_cursor.ts for which epochs are filed under and fetched
 * - direct_mail.ts: 1:1 mail for contacts who are offline, through the same
 *   anchors and store, under the pairwise weekly tags of direct_keys.ts
 * - own_mail.ts: the same for a person's own devices that are never online
 *   together, under weekly tags of each pair of device keys
 * - own_mail_records.ts: the person's records own mail carries in boxes of their
 *   own (contacts; chat settings and read marks, invites: ownmail2)
 *
 * @module
 */
export {
  boxId,
  epochMailboxSecret,
  MAILBOX_SECRET_BYTES,
  type MailboxKeys,
  mailboxKeys,
  openBox,
  pointerKeys,
  sealBox,
} from "./mailbox_crypto.ts";
export {
  DEFAULT_MAILBOX_LIMITS,
  type FetchResult,
  type MailboxLimits,
  MailboxStore,
  MAX_BOX_BYTES,
  type PutResult,
} from "./mailbox_store.ts";
export { AnchorMailbox, type AnchorMailboxNote } from "./anchor_mailbox.ts";
export { GroupMailbox } from "./group_mailbox.ts";
export {
  CARRY_LIMITS,
  DirectMail,
  type DirectMailHost,
  type DirectMailNote,
  type Holder,
} from "./direct_mail.ts";
export { DIRECT_WINDOW_MS, directMailKeys, directWindow, ownMailKeys } from "./direct_keys.ts";
export { OwnMail, type OwnMailHost, type OwnMailNote } from "./own_mail.ts";
export {
  contactRecords,
  inviteRecords,
  type OwnRecords,
  prefsRecords,
} from "./own_mail_records.ts";
export {
  anchorMailboxEvent,
  directMailEvent,
  mailboxEvent,
  ownMailEvent,
} from "./mailbox_events.ts";
export type {
  GroupMailboxHost,
  MailboxNote,
  MailboxProgress,
  MemberDevices,
} from "./visit_context.ts";
