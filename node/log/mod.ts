export {
  badSignature,
  createEntry,
  decodeEntry,
  type Ed25519Verifier,
  encodeEntry,
  type Entry,
  type EntryFields,
  entryHash,
  hasType,
  MAX_BODY_BYTES,
  prepareEntry,
  type UncheckedEntry,
  verifyEntry,
} from "./entry.ts";
export { entryFromLine, type EntryJson, entryToJson, MAX_ENTRY_LINE, toHex } from "./entry_json.ts";
export { compareBytes, compareEntries } from "./order.ts";
export { type AppendItem, type AppendOptions, ChatLog, type ChatLogOptions } from "./chat_log.ts";
export { dropAside, entriesAside } from "./set_aside.ts";
export { LAMPORT_CEILING, MAX_LAMPORT_JUMP } from "./clock_bound.ts";
export { type Fork } from "./fork_records.ts";
export { type Head } from "./head_cache.ts";
export {
  type MergeOptions,
  type MergeResult,
  type RejectCode,
  type Rejection,
} from "./merge_result.ts";
export { type RawEntry, type SeqEntry } from "./stored_entry.ts";
export { directChatId, notesChatId } from "./chat_id.ts";
