/**
 * A person's chats on a running node. The only import surface of `node/chats/`.
 *
 * - chat_directory.ts: chats by the names a person types, and by id
 * - chat_service.ts: notes, messages, reading, unread counts, delivery state
 * - session_syncs.ts: which chats sync on which session, group farewells
 * - group_service.ts: group membership changes, entries from members, adoption
 * - catch_up_progress.ts: long catch-ups for status and followers
 * - sftp_view.ts: the chats a contact sees with OpenSSH sftp
 * - restore_gate.ts: after a restore, direct chats wait for their peer before we write
 * - message_target.ts: which message a reply, edit, deletion or reaction names, and may it
 * - receipts.ts: read receipts and typing notices on direct-chat sessions
 * - group_rebase.ts: a group's set-aside entries of ours written again (identity resolve)
 * - read_marks.ts: how far the person read each chat (synced between devices by device_sync)
 *
 * @module
 */
export { ChatDirectory, groupRef } from "./chat_directory.ts";
export { type ChatOutlets, ChatService, type ChatServiceDeps } from "./chat_service.ts";
export { type GroupArrivals, SessionSyncs, type SessionSyncsDeps } from "./session_syncs.ts";
export { GroupService, type GroupServiceDeps, type JoinedVia } from "./group_service.ts";
export { CatchUpProgress, type SyncProgress } from "./catch_up_progress.ts";
export { type SftpViewDeps, sftpViewFor } from "./sftp_view.ts";
export { RestoreGate } from "./restore_gate.ts";
export { type Annotation } from "./message_target.ts";
export { Receipts, type ReceiptsDeps, TYPING_SEND_MS, TYPING_TAKE_MS } from "./receipts.ts";
export { memberNamesOf, rebaseGroup } from "./group_rebase.ts";
export { ReadMarks } from "./read_marks.ts";
