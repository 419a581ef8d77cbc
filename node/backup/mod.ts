/**
 * Encrypted backups of a data folder and restoring them. The only import
 * surface of `node/backup/`. The two commands load their code on first use:
 * age, tar and node:sqlite (some 4 MB of a running node's memory) stay out of
 * `roj run`, which never backs up.
 */
import type { BackupOptions, BackupSummary } from "./backup.ts";
import type { RestoreOptions, RestoreSummary } from "./restore.ts";

export type { BackupOptions, BackupSummary } from "./backup.ts";
export type { RestoreOptions, RestoreSummary } from "./restore.ts";
export {
  BACKUP_FILES,
  type Manifest,
  MAX_BACKUP_BYTES,
  MAX_KEY_BYTES,
  MAX_STORE_BYTES,
} from "./manifest.ts";

/** Writes an encrypted backup of the data folder (backup.ts). */
export async function writeBackup(o: BackupOptions): Promise<BackupSummary> {
  return await (await import("./backup.ts")).writeBackup(o);
}

/** Restores a backup into an empty data folder (restore.ts). */
export async function restoreBackup(o: RestoreOptions): Promise<RestoreSummary> {
  return await (await import("./restore.ts")).restoreBackup(o);
}
