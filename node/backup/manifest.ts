/**
 * What a backup holds, and its bounds. A backup is an age file
 * (age-encryption.org/v1, passphrase: scrypt) whose plaintext is a ustar
 * archive: `manifest.json` first, then the data folder's files it names, in
 * its order. The manifest is checked with a schema before any file is taken.
 */
import { z } from "zod";
import { BACKUP_FORMAT } from "../identity/mod.ts";

/** The files of a data folder a backup carries (never the socket or an events file). */
export const BACKUP_FILES = ["id_ed25519", "id_ed25519.pub", "roj.kv"] as const;
export type BackupFile = (typeof BACKUP_FILES)[number];

/** The manifest's own entry, first in the archive. */
export const MANIFEST_NAME = "manifest.json";
/** Largest manifest read. */
export const MAX_MANIFEST_BYTES = 16 * 1024;
/** Largest key or public key file carried (as home/profile.ts reads them). */
export const MAX_KEY_BYTES = 16 * 1024;
/** Largest store snapshot carried: 16 GiB (an anchor's mailbox alone may hold 4 GiB). */
export const MAX_STORE_BYTES = 16 * 1024 ** 3;
/** Largest backup file read: the files, the archive's headers and age's 16 bytes per 64 KiB. */
export const MAX_BACKUP_BYTES = MAX_STORE_BYTES + MAX_STORE_BYTES / 2048 + 1024 * 1024;

export const maxBytesOf = (
  name: BackupFile,
) => (name === "roj.kv" ? MAX_STORE_BYTES : MAX_KEY_BYTES);

export const manifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  /** When the snapshot was taken, ms since the epoch. */
  created: z.number().int().nonnegative(),
  /** The identity's name and fingerprint, for people (from id_ed25519.pub). */
  name: z.string().max(200),
  fingerprint: z.string().max(100),
  /** Where an adopted key lives (it is not in the backup); null for a key in the folder. */
  keyFile: z.string().max(4096).nullable(),
  files: z.array(
    z.object({
      name: z.enum(BACKUP_FILES),
      size: z.number().int().nonnegative().max(MAX_STORE_BYTES),
    }).strict(),
  ).min(2).max(BACKUP_FILES.length),
}).strict();

export type Manifest = z.infer<typeof manifestSchema>;
