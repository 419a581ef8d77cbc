export {
  badSignature,
  createEntry,
  decodeEntry,
  type Ed25519Verifier,
  encodeEntry,
  type Entry,
  type EntryFields,
  entryHash,
  MAX_BODY_BYTES,
  prepareEntry,
  type UncheckedEntry,
  verifyEntry,
} from "./entry.ts";
export { entryFromLine, type EntryJson, entryToJson, MAX_ENTRY_LINE, toHex } from "./entry_json.ts";
export { compareBytes, compareEntries } from "./order.ts";
export {
  ChatLog,
  type ChatLogOptions,
  type Head,
  type MergeOptions,
  type MergeResult,
  type RawEntry,
  type RejectCode,
  type Rejection,
  type SeqEntry,
} from "./chat_log.ts";
export { directChatId, notesChatId } from "./chat_id.ts";
