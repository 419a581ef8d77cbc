/** Encrypted backups of a data folder and restoring them. The only import surface of `node/backup/`. */
export { type BackupOptions, type BackupSummary, writeBackup } from "./backup.ts";
export { restoreBackup, type RestoreOptions, type RestoreSummary } from "./restore.ts";
export {
  BACKUP_FILES,
  type Manifest,
  MAX_BACKUP_BYTES,
  MAX_KEY_BYTES,
  MAX_STORE_BYTES,
} from "./manifest.ts";
