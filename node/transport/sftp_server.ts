/**
 * The SFTP view: a contact who connects with plain OpenSSH `sftp` sees
 * `/chats/<name>.log` for each chat they are a member of, one export line (a
 * signed entry as JSON) per line, and may append entries they signed.
 *
 * ```
 * /                 dr-xr-xr-x  only "chats"
 * /chats            dr-xr-xr-x  one file per visible chat
 * /chats/<name>.log -rw-r--r--  the chat's export lines, snapshotted at OPEN
 * ```
 *
 * Appending: OpenSSH's `put -a local remote` ("resume") STATs the remote file,
 * OPENs it with WRITE|CREAT|APPEND (plain `put` sends WRITE|CREAT|TRUNC), and
 * WRITEs the local bytes beyond the remote size at offsets starting at that
 * size. So the way to add entries is: `get` the file, add lines at its end,
 * `put -a` it back. Every complete line is checked as it arrives; the lines
 * are stored together when the handle is closed, or none of them is.
 *
 * OpenSSH's client prints only the status code ("Failure") for a refused
 * WRITE or CLOSE, never the server's message, so the reason is also written
 * to the channel's stderr, which `sftp` shows on the terminal.
 *
 * @module
 */
import { type Clock, systemClock } from "../clock/mod.ts";
import { SftpSession } from "./_sftp_session.ts";
import type { SftpStream } from "./_sftp_stream.ts";
import type { SftpView } from "./sftp_view.ts";

export { MAX_APPEND_BYTES } from "./_sftp_append.ts";
export { MAX_OPEN_HANDLES, MAX_READ_REPLY } from "./_sftp_session.ts";
export { SFTP_OPEN, SFTP_STATUS, type SftpStream } from "./_sftp_stream.ts";
export type { SftpChat, SftpView } from "./sftp_view.ts";

/**
 * Serves the SFTP view on one accepted ssh2 SFTP stream until it closes.
 * Never throws from an event handler: a failing view call becomes a FAILURE
 * status carrying the error's message.
 *
 * @example
 * ```ts ignore
 * session.on("sftp", (accept) => serveSftp(accept(), viewFor(peerKey), console.log));
 * ```
 * @param log receives one line per notable event (appends, refused uploads).
 * @param clock dates the files and folders shown. @default systemClock
 */
export function serveSftp(
  sftp: SftpStream,
  view: SftpView,
  log?: (line: string) => void,
  clock: Clock = systemClock,
): void {
  new SftpSession(sftp, view, log ?? (() => {}), clock).start();
}
