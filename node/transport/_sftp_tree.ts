/**
 * The virtual tree the SFTP view shows, as pure functions: "/" holds
 * "chats" (and "files" where the view has files), "/chats" holds
 * `<name>.log` per visible chat, and "/files/<chat>/" that chat's files. Paths are
 * normalised lexically ("..", ".", repeated "/"), so no path can name anything
 * outside this tree.
 */

/** Where a path points in the tree; a file is named without its ".log". */
export type TreeNode =
  | { readonly kind: "root" }
  | { readonly kind: "chats" }
  | { readonly kind: "file"; readonly name: string }
  /** "/files", "/files/<chat>" and "/files/<chat>/<name>": a chat's files, read-only. */
  | { readonly kind: "files" }
  | { readonly kind: "filedir"; readonly chat: string }
  | { readonly kind: "blob"; readonly chat: string; readonly name: string };

/** SFTP file attributes, in the shape ssh2's `attrs()`/`name()` take. */
export interface SftpAttrs {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly atime: number;
  readonly mtime: number;
}

/** One entry of a NAME reply. */
export interface SftpNameEntry {
  readonly filename: string;
  readonly longname: string;
  readonly attrs: SftpAttrs;
}

export const DIR_MODE = 0o40555;
export const FILE_MODE = 0o100644;
const SUFFIX = ".log";

/** True when `name` can be shown as `/chats/<name>.log` without escaping the folder. */
export function isShowableName(name: string): boolean {
  return name.length > 0 && name.length <= 200 && name !== "." && name !== ".." &&
    !/[/\\\0\n\r]/.test(name);
}

/**
 * Resolves an SFTP path, absolute or relative to "/", to a node of the tree;
 * null when it is not in the tree. A "file" result still has to be looked up
 * among the visible chats.
 */
export function resolvePath(path: string): TreeNode | null {
  if (path.includes("\0")) return null;
  const parts: string[] = [];
  for (const p of path.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  if (parts.length === 0) return { kind: "root" };
  if (parts[0] === "files") {
    if (parts.length === 1) return { kind: "files" };
    const chat = parts[1]!;
    if (!isShowableName(chat) || parts.length > 3) return null;
    if (parts.length === 2) return { kind: "filedir", chat };
    return isShowableName(parts[2]!) ? { kind: "blob", chat, name: parts[2]! } : null;
  }
  if (parts[0] !== "chats") return null;
  if (parts.length === 1) return { kind: "chats" };
  const file = parts[1]!;
  if (parts.length > 2 || !file.endsWith(SUFFIX)) return null;
  const name = file.slice(0, -SUFFIX.length);
  return isShowableName(name) ? { kind: "file", name } : null;
}

/** The canonical absolute path of a node, as REALPATH answers. */
export function nodePath(node: TreeNode): string {
  switch (node.kind) {
    case "root":
      return "/";
    case "chats":
      return "/chats";
    case "file":
      return `/chats/${node.name}${SUFFIX}`;
    case "files":
      return "/files";
    case "filedir":
      return `/files/${node.chat}`;
    case "blob":
      return `/files/${node.chat}/${node.name}`;
  }
}

/** The file name of a chat inside /chats. */
export function fileName(name: string): string {
  return name + SUFFIX;
}

export function dirAttrs(nowMs: number): SftpAttrs {
  const t = Math.floor(nowMs / 1000);
  return { mode: DIR_MODE, uid: 0, gid: 0, size: 0, atime: t, mtime: t };
}

export function fileAttrs(size: number, nowMs: number): SftpAttrs {
  const t = Math.floor(nowMs / 1000);
  return { mode: FILE_MODE, uid: 0, gid: 0, size, atime: t, mtime: t };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function permString(mode: number): string {
  const type = (mode & 0o170000) === 0o040000 ? "d" : "-";
  let out = type;
  for (const shift of [6, 3, 0]) {
    const bits = (mode >> shift) & 7;
    out += (bits & 4 ? "r" : "-") + (bits & 2 ? "w" : "-") + (bits & 1 ? "x" : "-");
  }
  return out;
}

/** An `ls -l` style line, which OpenSSH's `ls -l` prints as is. */
export function longName(filename: string, attrs: SftpAttrs): string {
  const d = new Date(attrs.mtime * 1000);
  const date = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ` +
    `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
  const links = (attrs.mode & 0o170000) === 0o040000 ? 2 : 1;
  return `${permString(attrs.mode)} ${String(links).padStart(4)} ${"0".padEnd(8)} ` +
    `${"0".padEnd(8)} ${String(attrs.size).padStart(8)} ${date} ${filename}`;
}

export function nameEntry(filename: string, attrs: SftpAttrs): SftpNameEntry {
  return { filename, longname: longName(filename, attrs), attrs };
}
