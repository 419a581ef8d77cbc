/**
 * The SFTP v3 vocabulary this server speaks (draft-ietf-secsh-filexfer-02):
 * status codes, OPEN flags, and the part of ssh2's server-side SFTP stream
 * that the session uses.
 */
import type { Buffer } from "node:buffer";
import type { SftpAttrs, SftpNameEntry } from "./_sftp_tree.ts";

/** SFTP v3 status codes. */
export const SFTP_STATUS = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  OP_UNSUPPORTED: 8,
} as const;

/** SFTP v3 OPEN pflags. */
export const SFTP_OPEN = {
  READ: 0x01,
  WRITE: 0x02,
  APPEND: 0x04,
  CREAT: 0x08,
  TRUNC: 0x10,
  EXCL: 0x20,
} as const;

type Req<A extends unknown[]> = (reqid: number, ...args: A) => void;

/**
 * The part of ssh2's server-side SFTP stream (what `accept()` returns in a
 * session's "sftp" event) that this module uses.
 */
export interface SftpStream {
  on(event: "OPEN", listener: Req<[path: string, pflags: number, attrs: unknown]>): unknown;
  on(event: "READ", listener: Req<[handle: Uint8Array, offset: number, length: number]>): unknown;
  on(
    event: "WRITE",
    listener: Req<[handle: Uint8Array, offset: number, data: Uint8Array]>,
  ): unknown;
  on(event: "FSTAT" | "CLOSE" | "READDIR", listener: Req<[handle: Uint8Array]>): unknown;
  on(
    event: "STAT" | "LSTAT" | "OPENDIR" | "REALPATH" | "REMOVE" | "RMDIR" | "READLINK",
    listener: Req<[path: string]>,
  ): unknown;
  on(event: "MKDIR" | "SETSTAT", listener: Req<[path: string, attrs: unknown]>): unknown;
  on(event: "FSETSTAT", listener: Req<[handle: Uint8Array, attrs: unknown]>): unknown;
  on(event: "RENAME" | "SYMLINK", listener: Req<[a: string, b: string]>): unknown;
  on(event: "EXTENDED", listener: Req<[name: string, data: unknown]>): unknown;
  on(event: "end" | "close", listener: () => void): unknown;
  on(event: "error", listener: (err: unknown) => void): unknown;
  handle(reqid: number, handle: Buffer): void;
  status(reqid: number, code: number, message?: string): void;
  data(reqid: number, data: Buffer): void;
  name(reqid: number, names: Array<SftpNameEntry | { filename: string; longname: string }>): void;
  attrs(reqid: number, attrs: SftpAttrs): void;
  /** Closes the channel. */
  end(): void;
}
