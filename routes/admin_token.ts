/**
 * The admin's sign-in token, kept in the data folder so that a bookmark and a
 * signed-in browser outlive a restart: `<data>/admin-token`, mode 0600, one
 * line of base64url. The session cookie is derived from it (an HMAC), so
 * rotating the token (`roj admin --rotate`) signs every browser out and every
 * old URL stops working, with no session list to keep.
 *
 * `<data>/admin-origin` says where the running admin listens
 * (`http://127.0.0.1:7080`), for `roj admin` to print the URL; it is written
 * when the admin starts and removed when it stops.
 *
 * A running admin re-reads the token file when it changed (a stat per
 * sign-in check), so a rotation takes effect at once, with or without a node.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomSecret } from "./security.ts";

/** What a token may be: base64url, 16–256 characters. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;

/** The largest token file read, in bytes. */
const MAX_TOKEN_FILE = 1024;

const SESSION_LABEL = new TextEncoder().encode("roj admin session v1");

export const adminTokenPath = (dir: string) => `${dir}/admin-token`;
export const adminOriginPath = (dir: string) => `${dir}/admin-origin`;

const noModes = () => Deno.build.os === "windows";

/** The session cookie's value for `token`: HMAC-SHA256(token, label), base64url. */
export function sessionOf(token: string): string {
  const mac = hmac(sha256, new TextEncoder().encode(token), SESSION_LABEL);
  return btoa(String.fromCharCode(...mac)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** Writes `text` to `path` with mode 0600 from its first byte, replacing it whole. */
async function writePrivate(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomSecret().slice(0, 8)}.tmp`;
  const f = await Deno.open(tmp, { createNew: true, write: true, mode: 0o600 });
  try {
    await f.write(new TextEncoder().encode(text));
    await f.sync();
  } finally {
    f.close();
  }
  if (!noModes()) await Deno.chmod(tmp, 0o600);
  await Deno.rename(tmp, path);
}

/** Why a token file is refused, or null. */
function badToken(text: string): string | null {
  return TOKEN_PATTERN.test(text) ? null : "is not 16-256 characters of A-Z a-z 0-9 _ -";
}

/**
 * The token in `dir`, made (32 random bytes) when there is none. A file
 * others may read is made private first (`tightened` says so).
 * @throws {Error} when the file holds no valid token.
 */
export async function loadAdminToken(
  dir: string,
): Promise<{ token: string; tightened: boolean }> {
  const path = adminTokenPath(dir);
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    const token = randomSecret();
    await writePrivate(path, `${token}\n`);
    return { token, tightened: false };
  }
  if (!info.isFile) throw new Error(`${path} is not a regular file`);
  if (info.size > MAX_TOKEN_FILE) throw new Error(`${path} is larger than ${MAX_TOKEN_FILE} bytes`);
  let tightened = false;
  if (!noModes() && info.mode !== null && (info.mode & 0o077) !== 0) {
    await Deno.chmod(path, 0o600);
    tightened = true;
  }
  const token = (await Deno.readTextFile(path)).trim();
  const bad = badToken(token);
  if (bad) throw new Error(`${path} ${bad}; run \`roj admin --rotate\` to make a new one`);
  return { token, tightened };
}

/** Replaces the token in `dir` with a new one: old URLs and signed-in browsers stop working. */
export async function rotateAdminToken(dir: string): Promise<string> {
  const token = randomSecret();
  await writePrivate(adminTokenPath(dir), `${token}\n`);
  return token;
}

/** Where the admin of the node in `dir` listens, or null when it says nothing. */
export async function readAdminOrigin(dir: string): Promise<string | null> {
  try {
    const text = (await Deno.readTextFile(adminOriginPath(dir))).trim();
    return /^http:\/\/[\w.:[\]-]{1,300}$/.test(text) ? text : null;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/** Says (or with null, stops saying) where the admin of the node in `dir` listens. */
export async function writeAdminOrigin(dir: string, origin: string | null): Promise<void> {
  if (origin !== null) return await writePrivate(adminOriginPath(dir), `${origin}\n`);
  try {
    await Deno.remove(adminOriginPath(dir));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** The current token: fixed, or the file's, re-read whenever the file changed. */
export interface TokenSource {
  current(): string;
}

/** A token that never changes (tests, and `startAdmin` without a data folder). */
export const fixedToken = (token: string): TokenSource => ({ current: () => token });

/**
 * The token file of `dir` as it is now: a stat per call; a changed file
 * (another inode or mtime, as a rotation makes) is read again. While the file
 * is missing or unreadable the last good token stays.
 */
export function fileToken(dir: string, first: string, log: (line: string) => void): TokenSource {
  const path = adminTokenPath(dir);
  let token = first;
  let seen: string | null = null;
  const stamp = (i: Deno.FileInfo) => `${i.ino}:${i.mtime?.getTime()}:${i.size}`;
  try {
    seen = stamp(Deno.statSync(path));
  } catch { /* read on the next call */ }
  return {
    current() {
      try {
        const info = Deno.statSync(path);
        const now = stamp(info);
        if (now === seen) return token;
        if (info.size > MAX_TOKEN_FILE) throw new Error(`larger than ${MAX_TOKEN_FILE} bytes`);
        const text = Deno.readTextFileSync(path).trim();
        const bad = badToken(text);
        if (bad) throw new Error(bad);
        token = text;
        seen = now;
      } catch (err) {
        if (seen !== "bad") log(`admin: ${path} unusable, keeping the last token: ${err}`);
        seen = "bad";
      }
      return token;
    },
  };
}
