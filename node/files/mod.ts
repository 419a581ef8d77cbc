/**
 * Files and images in chats (issue 15): a file is one signed entry naming its
 * content by a root over fixed-size chunks; the chunks move outside the log
 * (files.list, files.get) and are kept, each verified, in a content-addressed
 * store in the data folder.
 */
export { ChunkStore, type Imported, sha256Of } from "./chunk_store.ts";
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
export { isJpeg, makeThumbnail, THUMB_BOX, THUMB_BYTES } from "./thumbnail.ts";
