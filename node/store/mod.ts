export { keys } from "./kv_keys.ts";
export {
  corrupt,
  MAX_COMMIT_BYTES,
  MAX_COMMIT_KEY_BYTES,
  MAX_MUTATIONS,
  openStore,
  SCHEMA_VERSION,
  type Store,
} from "./kv_store.ts";
