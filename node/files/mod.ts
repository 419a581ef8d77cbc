/**
 * Files and images in chats (issue 15): a file is one signed entry naming its
 * content by a root over fixed-size chunks; the chunks move outside the log
 * (files.list, files.get) and are kept, each verified, in a content-addressed
 * store in the data folder. In a group (group_files.ts) the chunks are
 * sealed to the group's epoch (group_file_crypto.ts), served by any member
 * holding them, and held for offline members by anchors (anchor_files.ts).
 */
export { ChunkStore, type ChunkStoreOptions, type Imported, sha256Of } from "./chunk_store.ts";
export { CHUNK_TIMEOUT_MS, fetchFile, type FetchOutcome, type Holder } from "./file_fetch.ts";
export { type FileRecord, FileRecords, type FileState } from "./file_records.ts";
export { MAX_SERVING, serveFiles } from "./file_serve.ts";
export {
  DEFAULT_FILE_LIMITS,
  type FileLimits,
  FileService,
  type FileServiceDeps,
} from "./file_service.ts";
export {
  CHUNK_BYTES,
  chunkCount,
  chunkLength,
  FILE_ENTRY_TYPE,
  type FileManifest,
  fileRoot,
  fileSentence,
  listMatches,
  manifestBody,
  MAX_CHUNK_BYTES,
  MAX_NAME_BYTES,
  mediaTypeOf,
  parseManifest,
  sanitiseName,
} from "./manifest.ts";
export { admission, MAX_TRIES, WINDOW } from "./transfer_plan.ts";
export {
  type FileHolder,
  type GroupFileRecord,
  GroupFiles,
  type GroupFilesDeps,
} from "./group_files.ts";
export {
  type GroupFileManifest,
  openChunk,
  parseGroupManifest,
  SEAL_OVERHEAD,
  sealChunk,
  sealedManifest,
} from "./group_file_crypto.ts";
export {
  type AnchorFileLimits,
  AnchorFiles,
  DEFAULT_ANCHOR_FILE_LIMITS,
  offerRefusal,
} from "./anchor_files.ts";
export { checkRoom, DEFAULT_MIN_FREE, diskFull, freeBytes, roomRefusal } from "./disk_room.ts";
export { isJpeg, makeThumbnail, THUMB_BOX, THUMB_BYTES } from "./thumbnail.ts";
