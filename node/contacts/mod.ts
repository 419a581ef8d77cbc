export { type Contact, ContactBook, mergeAddresses } from "./contact_book.ts";
export { createInviteText, type Invite, MAX_INVITE_TEXT, parseInvite } from "./invite.ts";
export {
  createPersonInviteText,
  type InviteAddress,
  MAX_INVITE_DEVICES,
  type PersonInvite,
} from "./person_invite.ts";
export { InviteRegistry, type IssuedInviteRecord } from "./invite_registry.ts";
export { type AgreeKeyOf, agreeKeys } from "./agree_keys.ts";
export { Verifications } from "./verifications.ts";
export { MEMBER_ID_BYTES, MemberIds, memberTag } from "./member_ids.ts";
