/**
 * Files only their owner may read. The store holds every message and every
 * unredeemed invite, the key folder the identity: other users of the machine
 * must not read them, whatever the umask was or the mode a folder already had
 * (`mkdir` keeps an existing folder's 0755, and SQLite creates a database
 * with the umask's 0644 and its -wal/-shm files with the database's mode).
 *
 * Tightening drops the group and other bits and keeps the owner's and the
 * special ones; each change is returned so the caller can say so once.
 * Windows has no such modes: nothing is changed there.
 */

/** A mode made stricter: which file, from and to (permission bits, e.g. 0o644 → 0o600). */
export interface ModeChange {
  readonly path: string;
  readonly from: number;
  readonly to: number;
}

const noModes = () => Deno.build.os === "windows";

/**
 * Takes the group and other bits off `path` if it is a regular file (a
 * symlink is left alone: what it points to is not ours to change) or a
 * folder this user owns. A missing path is no change.
 * @returns the change made, or null.
 * @throws {Deno.errors.PermissionDenied} when chmod is refused.
 */
export async function makePrivate(path: string): Promise<ModeChange | null> {
  if (noModes()) return null;
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  if (info.mode === null || !(info.isFile || info.isDirectory)) return null;
  const from = info.mode & 0o7777;
  if ((from & 0o077) === 0) return null;
  // A folder someone else owns, or a shared sticky one like /tmp, is not ours to close.
  if (info.isDirectory && (info.uid !== Deno.uid() || (from & 0o1000) !== 0)) return null;
  const to = from & ~0o077;
  await Deno.chmod(path, to);
  return { path, from: from & 0o777, to: to & 0o777 };
}

/**
 * Creates `path` empty with mode 0600 unless it exists, so that what is then
 * written into it was never readable by others, even for a moment.
 */
export async function createPrivateFile(path: string): Promise<void> {
  try {
    const f = await Deno.open(path, { createNew: true, write: true, mode: 0o600 });
    f.close();
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return;
    throw err;
  }
  // The umask may have taken more than 0o077 off; the owner must still read and write.
  if (!noModes()) await Deno.chmod(path, 0o600);
}

/**
 * What to tell the person, once, after tightening: one line naming each
 * change ("made private, other users of this machine could read them:
 * /home/a/.local/share/roj 0755 -> 0700, …"), or null when nothing changed.
 */
export function tightenedNotice(changes: readonly ModeChange[]): string | null {
  if (changes.length === 0) return null;
  const oct = (m: number) => `0${m.toString(8).padStart(3, "0")}`;
  return `made private, other users of this machine could read them: ${
    changes.map((c) => `${c.path} ${oct(c.from)} -> ${oct(c.to)}`).join(", ")
  }`;
}
