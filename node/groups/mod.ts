/**
 * Group chats: membership as signed entries in the group's own log, a group
 * key per membership epoch, and the registry of groups this node belongs to.
 * The only import surface of `node/groups/`.
 *
 * - membership.ts: the pure fold (who is in, who is admin, the epochs) and
 *   the rule for concurrent changes (display order decides).
 * - group_crypto.ts: sealing epoch keys to members, message encryption.
 * - group_book.ts: the registry, refolding, writing changes and messages,
 *   reading them decrypted; which epoch a writer uses.
 * - group_sftp.ts: the group as members see it with OpenSSH sftp.
 * - join_candidate.ts: how a node learns of a group it was added to without
 *   letting contacts fill its store.
 *
 * How node.ts syncs groups (the wire protocol is unchanged: sync.heads and
 * sync.push with a "g-…" chat id):
 * - on each session with P, a ChatSync per group in which both P and this
 *   node are current members (as this node sees it); its authors filter is
 *   everyone who was ever a member, so anyone's entries are forwarded;
 * - the handlers serve those groups and answer not_found for others, except
 *   a group we are not in, which goes to a scratch log (join_candidate.ts);
 * - any change to a group (local write, entries from a peer) notifies its
 *   syncs on every session, starts syncs with new members, and ends them with
 *   members who left; a member removed is sent the history up to their
 *   removal and nothing after (a "farewell"), also when they come back later.
 *
 * @module
 */
export { GROUP_ID_RE, GROUP_NONCE_BYTES, groupChatId, isGroupChatId } from "./group_id.ts";
export {
  carriedKeys,
  type Change,
  type Epoch,
  epochId,
  type FoldEntry,
  GROUP_OPS,
  isGroupOp,
  MAX_GROUP_NAME,
  MAX_MEMBERS,
  type Member,
  members,
  type Membership,
  MembershipFold,
  SELF_NAME_RE,
  type Verdict,
  writeEpoch,
} from "./membership.ts";
export {
  decryptGroupMessage,
  encryptGroupMessage,
  GROUP_FILE_TYPE,
  messageEpoch,
  newGroupKey,
  openGroupKey,
  openGroupMessage,
  type ParsedMessage,
  parseGroupMessage,
  sealGroupKey,
} from "./group_crypto.ts";
export { describe } from "./describe.ts";
export {
  type GroupBookDevice,
  HandedKeys,
  MAX_HANDED_PER_GROUP,
  type SpeaksFor,
} from "./handed_keys.ts";
export {
  type Group,
  GroupBook,
  type GroupLine,
  MAX_GROUPS,
  type WriteOptions,
} from "./group_book.ts";
export { checkGroupAppend, groupExportLines } from "./group_sftp.ts";
export {
  CandidateBudget,
  JoinCandidate,
  MAX_CANDIDATE_BYTES,
  MAX_CANDIDATE_ENTRIES,
  MAX_CANDIDATES_PER_SESSION,
  MAX_SESSION_CANDIDATE_BYTES,
} from "./join_candidate.ts";
export { HiddenGroups } from "./hidden_groups.ts";
