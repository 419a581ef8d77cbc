/** What the SFTP server shows a peer: the caller's side of the SFTP view (see sftp_server.ts). */

/** A chat the session's peer may see; its file is `/chats/<name>.log`. */
export interface SftpChat {
  /** The file name without ".log"; names with "/", "\\", NUL or line breaks, "." and ".." are not shown. */
  readonly name: string;
  /** The chat id. */
  readonly chat: string;
}

/** A complete file of a chat, read-only: `/files/<chat>/<name>`. */
export interface SftpFile {
  /** The chat's name, as in /chats (same rules as SftpChat.name). */
  readonly chat: string;
  /** Unique within its chat; names that are not showable are not shown. */
  readonly name: string;
  readonly size: number;
  /** Up to `length` bytes from `offset` (fewer only at the end). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** What one SFTP session may see and do; the caller binds it to the peer's key. */
export interface SftpView {
  /** Chats the session's peer may see. Called on each OPENDIR/STAT/OPEN. */
  list(): Promise<SftpChat[]>;
  /** The whole file content: export lines (one JSON entry per line, each ending "\n"). */
  read(chat: string): Promise<Uint8Array>;
  /**
   * Checks one appended line (parse, verify, authored by the session's key,
   * right chat). Stores nothing.
   * @throws {RojError} with a one-line reason when the line is invalid.
   */
  check(chat: string, line: string): Promise<void>;
  /**
   * Stores lines that all passed check(); resolves to how many were stored.
   * @throws {RojError} if anything fails; then nothing is stored.
   */
  append(chat: string, lines: string[]): Promise<number>;
  /** The complete files of the chats the peer may see (none: no /files folder). */
  files?(): Promise<SftpFile[]>;
}
