/**
 * Room on disk before a transfer (issue 15, item 3). Deno has no statfs of
 * its own; its node:fs statfs asks the kernel (statfs(2)) for the blocks
 * free to an unprivileged user. A transfer is refused up front, with the
 * numbers, when it would leave less than the spare room; a write that still
 * meets a full disk (ENOSPC) leaves only a temporary file (chunk_store.ts
 * renames a chunk into place only once written whole), so nothing half
 * written is ever counted as held.
 */
import { statfs } from "node:fs/promises";
import { RojError } from "../errors.ts";

/** Room kept free on the data folder's disk after any transfer. @default 64 MiB */
export const DEFAULT_MIN_FREE = 64 * 1024 * 1024;

/** Why `need` bytes do not fit in `free` keeping `spare` free, or null when they do. */
export function roomRefusal(free: number, need: number, spare: number): string | null {
  if (free - need >= spare) return null;
  return `not enough disk space: it needs ${need} bytes and ${free} are free on this ` +
    `disk, ${spare} of which are kept spare (--min-free-disk)`;
}

/** Bytes free to this user on the disk holding `dir`; null when the system will not say. */
export async function freeBytes(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

/**
 * Refuses a transfer of `need` bytes into `dir` that would not leave `spare` free.
 * @throws {RojError} refused, saying how much is needed and free
 */
export async function checkRoom(dir: string, need: number, spare = DEFAULT_MIN_FREE) {
  const free = await freeBytes(dir);
  const why = free === null ? null : roomRefusal(free, need, spare);
  if (why) throw new RojError("refused", why);
}

/** A failed write's words, or plainly that the disk is full (ENOSPC). */
export function diskFull(reason: string): string {
  return /os error 28|ENOSPC|No space left/i.test(reason)
    ? `no space left on this disk (${reason})`
    : reason;
}
