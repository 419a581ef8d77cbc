export { batchCommits, batchDelete } from "./batch_commits.ts";
export { keys } from "./kv_keys.ts";
export {
  corrupt,
  MAX_COMMIT_BYTES,
  MAX_COMMIT_KEY_BYTES,
  MAX_MUTATIONS,
  type OpenedStore,
  openStore,
  SCHEMA_VERSION,
  type Store,
  storeFiles,
} from "./kv_store.ts";
export {
  createPrivateFile,
  makePrivate,
  type ModeChange,
  tightenedNotice,
} from "./private_files.ts";
