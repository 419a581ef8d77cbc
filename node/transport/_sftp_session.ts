/**
 * One SFTP session of the SFTP view (see sftp_server.ts): answers each request
 * of ssh2's stream from the view, holds the open handles, checks appended
 * lines as they arrive and stores them at CLOSE, all or none.
 */
import { Buffer } from "node:buffer";
import type { Clock } from "../clock/mod.ts";
import { AppendBuffer } from "./_sftp_append.ts";
import { HOW_TO_APPEND, messageOf, shown, tellUser } from "./_sftp_messages.ts";
import { SFTP_OPEN, SFTP_STATUS, type SftpStream } from "./_sftp_stream.ts";
import {
  dirAttrs,
  fileAttrs,
  fileName,
  isShowableName,
  nameEntry,
  nodePath,
  resolvePath,
  type SftpAttrs,
  type SftpNameEntry,
  type TreeNode,
} from "./_sftp_tree.ts";
import type { SftpChat, SftpFile, SftpView } from "./sftp_view.ts";

/** Largest DATA reply, in bytes. */
export const MAX_READ_REPLY = 32 * 1024;
/** Most handles (files and folders) one session may hold open. */
export const MAX_OPEN_HANDLES = 4;

interface DirHandle {
  readonly kind: "dir";
  readonly entries: SftpNameEntry[];
  /** How many entries READDIR has returned so far. */
  sent: number;
}
interface ReadHandle {
  readonly kind: "read";
  readonly content: Uint8Array;
}
/** A chat's file under /files: read a range at a time, never whole. */
interface BlobHandle {
  readonly kind: "blob";
  readonly file: SftpFile;
}
interface WriteHandle {
  readonly kind: "write";
  readonly chat: string;
  readonly path: string;
  readonly buffer: AppendBuffer;
  /** Serialises the checks of this handle's writes, and its close after them. */
  queue: Promise<void>;
  told: boolean;
}
type Handle = DirHandle | ReadHandle | BlobHandle | WriteHandle;

const WRITE_INTENT = SFTP_OPEN.WRITE | SFTP_OPEN.APPEND | SFTP_OPEN.CREAT | SFTP_OPEN.TRUNC |
  SFTP_OPEN.EXCL;
/** Names per READDIR reply, well under the 256 KiB packets OpenSSH accepts. */
const READDIR_BATCH = 100;

function countNewlines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}

/** Serves one accepted SFTP stream from a view until it closes; never throws from a handler. */
export class SftpSession {
  readonly #sftp: SftpStream;
  readonly #view: SftpView;
  readonly #log: (line: string) => void;
  /** Dates the files and folders shown (the view has no times of its own). */
  readonly #clock: Clock;
  readonly #handles = new Map<string, Handle>();
  /** OPEN/OPENDIR requests that hold a slot while the view is consulted. */
  #opening = 0;
  #nextHandle = 1;
  #closed = false;
  readonly #busy = new Set<Promise<void>>();

  constructor(sftp: SftpStream, view: SftpView, log: (line: string) => void, clock: Clock) {
    this.#sftp = sftp;
    this.#view = view;
    this.#log = log;
    this.#clock = clock;
  }

  /** Registers a handler for every request type. */
  start(): void {
    const s = this.#sftp;
    s.on("OPEN", (id, path, pflags) => this.#run(id, () => this.#open(id, path, pflags)));
    s.on("READ", (id, h, offset, len) => this.#run(id, () => this.#read(id, h, offset, len)));
    s.on("WRITE", (id, h, offset, data) => this.#run(id, () => this.#write(id, h, offset, data)));
    s.on("CLOSE", (id, h) => this.#run(id, () => this.#close(id, h)));
    s.on("FSTAT", (id, h) => this.#run(id, () => this.#fstat(id, h)));
    s.on("STAT", (id, path) => this.#run(id, () => this.#stat(id, path)));
    s.on("LSTAT", (id, path) => this.#run(id, () => this.#stat(id, path)));
    s.on("OPENDIR", (id, path) => this.#run(id, () => this.#opendir(id, path)));
    s.on("READDIR", (id, h) => this.#run(id, () => this.#readdir(id, h)));
    s.on("REALPATH", (id, path) => this.#run(id, () => this.#realpath(id, path)));
    const deny = (id: number, why: string) =>
      this.#run(id, () => this.#status(id, SFTP_STATUS.PERMISSION_DENIED, why));
    const unsupported = (id: number, why: string) =>
      this.#run(id, () => this.#status(id, SFTP_STATUS.OP_UNSUPPORTED, why));
    s.on("MKDIR", (id) => deny(id, "cannot make folders here"));
    s.on("RMDIR", (id) => deny(id, "cannot remove folders here"));
    s.on("REMOVE", (id) => deny(id, "cannot remove files: chats are append-only"));
    s.on("RENAME", (id) => deny(id, "cannot rename files here"));
    s.on("SETSTAT", (id) => deny(id, "cannot change file attributes here"));
    s.on("FSETSTAT", (id) => deny(id, "cannot change file attributes here"));
    s.on("SYMLINK", (id) => deny(id, "cannot make links here"));
    s.on("READLINK", (id) => unsupported(id, "there are no links here"));
    s.on(
      "EXTENDED",
      (id, name) => unsupported(id, `extension ${String(name).slice(0, 100)} is not supported`),
    );
    // The client sent EOF: answer what is in flight, then close the channel
    // (ssh2 leaves that to us; OpenSSH's ssh waits for it before exiting).
    s.on("end", () => void this.#finish());
    s.on("close", () => {
      this.#closed = true;
      this.#handles.clear();
    });
    s.on("error", (err) => this.#log(`sftp: session error: ${messageOf(err)}`));
  }

  /** Runs a request handler; anything it throws or rejects with becomes a FAILURE reply. */
  #run(id: number, fn: () => void | Promise<void>): void {
    try {
      const r = fn();
      if (r instanceof Promise) {
        this.#track(r.catch((err) => this.#status(id, SFTP_STATUS.FAILURE, messageOf(err))));
      }
    } catch (err) {
      this.#status(id, SFTP_STATUS.FAILURE, messageOf(err));
    }
  }

  /** Remembers work in flight, so the channel closes only after its replies. */
  #track(p: Promise<void>): void {
    this.#busy.add(p);
    p.finally(() => this.#busy.delete(p)).catch(() => {});
  }

  async #finish(): Promise<void> {
    while (this.#busy.size > 0) await Promise.allSettled([...this.#busy]);
    this.#handles.clear();
    try {
      this.#sftp.end();
    } catch (err) {
      this.#log(`sftp: closing failed: ${messageOf(err)}`);
    }
  }

  #status(id: number, code: number, message?: string): void {
    this.#reply(() => this.#sftp.status(id, code, message));
  }

  #reply(send: () => void): void {
    if (this.#closed) return;
    try {
      send();
    } catch (err) {
      this.#log(`sftp: reply failed: ${messageOf(err)}`);
    }
  }

  /** Tells the user `text` on the channel's stderr (see tellUser), while the session is open. */
  #tellUser(text: string): void {
    if (!this.#closed) tellUser(this.#sftp, text);
  }

  #newHandle(h: Handle): Buffer {
    const key = String(this.#nextHandle++);
    this.#handles.set(key, h);
    return Buffer.from(key);
  }

  #get(handle: Uint8Array): [string, Handle] | null {
    const key = Buffer.from(handle).toString("latin1");
    const h = this.#handles.get(key);
    return h ? [key, h] : null;
  }

  /** Holds a handle slot while `fn` runs, or refuses when the session has too many open. */
  async #withSlot(id: number, fn: () => Promise<void>): Promise<void> {
    if (this.#handles.size + this.#opening >= MAX_OPEN_HANDLES) {
      this.#status(
        id,
        SFTP_STATUS.FAILURE,
        `too many open files (at most ${MAX_OPEN_HANDLES} per session)`,
      );
      return;
    }
    this.#opening++;
    try {
      await fn();
    } finally {
      this.#opening--;
    }
  }

  /** The files under /files, showable names only (a chat's that is not listed is not there). */
  async #files(): Promise<SftpFile[]> {
    if (!this.#view.files) return [];
    const chats = new Set((await this.#view.list()).map((c) => c.name));
    return (await this.#view.files()).filter((f) =>
      chats.has(f.chat) && isShowableName(f.chat) && isShowableName(f.name)
    );
  }

  async #fileNamed(chat: string, name: string): Promise<SftpFile | undefined> {
    return (await this.#files()).find((f) => f.chat === chat && f.name === name);
  }

  async #chatNamed(name: string): Promise<SftpChat | undefined> {
    const chats = await this.#view.list();
    return chats.find((c) => c.name === name && isShowableName(c.name));
  }

  #open(id: number, path: string, pflags: number): Promise<void> | void {
    const writing = (pflags & WRITE_INTENT) !== 0;
    const node = resolvePath(path);
    if (node === null) {
      return writing
        ? this.#denyWrite(id, shown(path), pflags, `cannot create ${shown(path)}: ${HOW_TO_APPEND}`)
        : this.#status(id, SFTP_STATUS.NO_SUCH_FILE, `no such file: ${shown(path)}`);
    }
    if (node.kind === "blob") {
      if (writing) {
        return this.#denyWrite(id, nodePath(node), pflags, "files here are read-only");
      }
      return this.#withSlot(id, async () => {
        const file = await this.#fileNamed(node.chat, node.name);
        if (!file) {
          return this.#status(id, SFTP_STATUS.NO_SUCH_FILE, `no such file: ${nodePath(node)}`);
        }
        if (this.#closed) return;
        const handle = this.#newHandle({ kind: "blob", file });
        this.#reply(() => this.#sftp.handle(id, handle));
      });
    }
    if (node.kind !== "file") {
      const why = `${nodePath(node)} is a folder`;
      return writing
        ? this.#denyWrite(id, shown(path), pflags, why)
        : this.#status(id, SFTP_STATUS.FAILURE, why);
    }
    return this.#withSlot(id, async () => {
      const found = await this.#chatNamed(node.name);
      const where = nodePath(node);
      if (!found) {
        if (!writing) return this.#status(id, SFTP_STATUS.NO_SUCH_FILE, `no such file: ${where}`);
        return this.#denyWrite(
          id,
          where,
          pflags,
          `cannot create ${where}: only existing chat files can be appended to`,
        );
      }
      if (writing) {
        let refusal: string | null = null;
        if (pflags & SFTP_OPEN.TRUNC) {
          refusal = `cannot overwrite ${where}: chats are append-only; ${HOW_TO_APPEND}`;
        } else if (pflags & SFTP_OPEN.EXCL) refusal = `${where} already exists`;
        else if (!(pflags & SFTP_OPEN.WRITE)) refusal = `open ${where} for writing to append`;
        if (refusal !== null) return this.#denyWrite(id, where, pflags, refusal);
      }
      const content = await this.#view.read(found.chat);
      const h: Handle = writing
        ? {
          kind: "write",
          chat: found.chat,
          path: where,
          buffer: new AppendBuffer(content.length, { linesBefore: countNewlines(content) }),
          queue: Promise.resolve(),
          told: false,
        }
        : { kind: "read", content };
      if (this.#closed) return;
      const handle = this.#newHandle(h);
      this.#reply(() => this.#sftp.handle(id, handle));
    });
  }

  #read(id: number, handle: Uint8Array, offset: number, length: number): Promise<void> | void {
    const got = this.#get(handle);
    if (!got) return this.#status(id, SFTP_STATUS.FAILURE, "invalid handle");
    const h = got[1];
    if (h.kind === "dir") return this.#status(id, SFTP_STATUS.FAILURE, "is a folder");
    if (h.kind === "write") {
      return this.#status(id, SFTP_STATUS.PERMISSION_DENIED, "opened for appending, not reading");
    }
    const at = Number(offset);
    if (!Number.isSafeInteger(at) || at < 0) {
      return this.#status(id, SFTP_STATUS.FAILURE, "bad offset");
    }
    if (h.kind === "blob") {
      const f = h.file;
      if (at >= f.size) return this.#status(id, SFTP_STATUS.EOF);
      const n = Math.min(length, MAX_READ_REPLY, f.size - at);
      if (n <= 0) return this.#status(id, SFTP_STATUS.FAILURE, "bad length");
      return f.read(at, n).then((bytes) =>
        this.#reply(() =>
          this.#sftp.data(id, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length))
        )
      );
    }
    if (at >= h.content.length) return this.#status(id, SFTP_STATUS.EOF);
    const n = Math.min(length, MAX_READ_REPLY, h.content.length - at);
    if (n <= 0) return this.#status(id, SFTP_STATUS.FAILURE, "bad length");
    const c = h.content;
    this.#reply(() => this.#sftp.data(id, Buffer.from(c.buffer, c.byteOffset + at, n)));
  }

  #write(id: number, handle: Uint8Array, offset: number, data: Uint8Array): void {
    const got = this.#get(handle);
    if (!got) return this.#status(id, SFTP_STATUS.FAILURE, "invalid handle");
    const h = got[1];
    if (h.kind !== "write") {
      return this.#status(id, SFTP_STATUS.PERMISSION_DENIED, "not opened for writing");
    }
    // ssh2 hands out a view into its packet buffer; keep a copy.
    const result = h.buffer.write(Number(offset), new Uint8Array(data));
    if (!result.ok) {
      this.#refuseUpload(h);
      return this.#status(id, SFTP_STATUS.FAILURE, result.reason);
    }
    const view = this.#view;
    h.queue = h.queue.then(async () => {
      for (const { line, number } of result.lines) {
        if (h.buffer.failure !== null) break;
        try {
          await view.check(h.chat, line);
        } catch (err) {
          h.buffer.fail(`line ${number}: ${messageOf(err)}`);
        }
      }
      if (h.buffer.failure === null) return this.#status(id, SFTP_STATUS.OK);
      this.#refuseUpload(h);
      this.#status(id, SFTP_STATUS.FAILURE, h.buffer.failure);
    }).catch((err) => this.#status(id, SFTP_STATUS.FAILURE, messageOf(err)));
    this.#track(h.queue);
  }

  /**
   * Refuses an OPEN for writing, telling the user why (OpenSSH prints only
   * "Permission denied"). `path` is already safe to print.
   */
  #denyWrite(id: number, path: string, pflags: number, why: string): void {
    this.#log(`sftp: ${path}: refused open for writing (pflags 0x${pflags.toString(16)}): ${why}`);
    this.#tellUser(why);
    this.#status(id, SFTP_STATUS.PERMISSION_DENIED, why);
  }

  /** Logs and tells the user, once per handle, why nothing will be stored. */
  #refuseUpload(h: WriteHandle): void {
    if (h.told) return;
    h.told = true;
    const reason = h.buffer.failure ?? "refused";
    this.#log(`sftp: ${h.path}: upload refused: ${reason}`);
    this.#tellUser(`cannot append to ${h.path}: ${reason}; nothing was stored`);
  }

  #close(id: number, handle: Uint8Array): void {
    const got = this.#get(handle);
    if (!got) return this.#status(id, SFTP_STATUS.FAILURE, "invalid handle");
    const [key, h] = got;
    this.#handles.delete(key);
    if (h.kind !== "write") return this.#status(id, SFTP_STATUS.OK);
    h.queue = h.queue.then(async () => {
      const done = h.buffer.finish();
      if (!done.ok) {
        this.#refuseUpload(h);
        return this.#status(id, SFTP_STATUS.FAILURE, `nothing was stored: ${done.reason}`);
      }
      if (done.lines.length === 0) return this.#status(id, SFTP_STATUS.OK);
      let stored: number;
      try {
        stored = await this.#view.append(h.chat, done.lines);
      } catch (err) {
        h.buffer.fail(messageOf(err));
        this.#refuseUpload(h);
        return this.#status(id, SFTP_STATUS.FAILURE, `nothing was stored: ${messageOf(err)}`);
      }
      this.#log(`sftp: ${h.path}: appended ${stored} entries`);
      this.#status(id, SFTP_STATUS.OK);
    }).catch((err) => this.#status(id, SFTP_STATUS.FAILURE, messageOf(err)));
    this.#track(h.queue);
  }

  #fstat(id: number, handle: Uint8Array): void {
    const got = this.#get(handle);
    if (!got) return this.#status(id, SFTP_STATUS.FAILURE, "invalid handle");
    const h = got[1];
    const now = this.#clock.now();
    const attrs = h.kind === "dir" ? dirAttrs(now) : fileAttrs(
      h.kind === "read"
        ? h.content.length
        : h.kind === "blob"
        ? h.file.size
        : h.buffer.base + h.buffer.received,
      now,
    );
    this.#reply(() => this.#sftp.attrs(id, attrs));
  }

  async #exists(node: TreeNode): Promise<boolean> {
    return (await this.#attrsOf(node)) !== null;
  }

  /** Attributes of an existing node, or null when it does not exist. */
  async #attrsOf(node: TreeNode): Promise<SftpAttrs | null> {
    const now = this.#clock.now();
    if (node.kind === "files") return this.#view.files ? dirAttrs(now) : null;
    if (node.kind === "filedir") {
      return this.#view.files && await this.#chatNamed(node.chat) ? dirAttrs(now) : null;
    }
    if (node.kind === "blob") {
      const f = await this.#fileNamed(node.chat, node.name);
      return f ? fileAttrs(f.size, now) : null;
    }
    if (node.kind !== "file") return dirAttrs(now);
    const found = await this.#chatNamed(node.name);
    if (!found) return null;
    return fileAttrs((await this.#view.read(found.chat)).length, now);
  }

  async #stat(id: number, path: string): Promise<void> {
    const node = resolvePath(path);
    const attrs = node && await this.#attrsOf(node);
    if (!attrs) return this.#status(id, SFTP_STATUS.NO_SUCH_FILE, `no such file: ${shown(path)}`);
    this.#reply(() => this.#sftp.attrs(id, attrs));
  }

  #opendir(id: number, path: string): Promise<void> | void {
    const node = resolvePath(path);
    if (node === null) {
      return this.#status(id, SFTP_STATUS.NO_SUCH_FILE, `no such folder: ${shown(path)}`);
    }
    if (node.kind === "file" || node.kind === "blob") {
      return this.#status(id, SFTP_STATUS.FAILURE, `${nodePath(node)} is not a folder`);
    }
    return this.#withSlot(id, async () => {
      const now = this.#clock.now();
      const entries = [nameEntry(".", dirAttrs(now)), nameEntry("..", dirAttrs(now))];
      if (node.kind === "root") {
        entries.push(nameEntry("chats", dirAttrs(now)));
        if (this.#view.files) entries.push(nameEntry("files", dirAttrs(now)));
      } else if (node.kind === "files" || node.kind === "filedir") {
        if (!(await this.#attrsOf(node))) {
          return this.#status(id, SFTP_STATUS.NO_SUCH_FILE, `no such folder: ${nodePath(node)}`);
        }
        if (node.kind === "files") {
          const chats = new Set((await this.#view.list()).map((c) => c.name));
          for (const c of chats) if (isShowableName(c)) entries.push(nameEntry(c, dirAttrs(now)));
        } else {
          for (const f of await this.#files()) {
            if (f.chat === node.chat) entries.push(nameEntry(f.name, fileAttrs(f.size, now)));
          }
        }
      } else {
        const seen = new Set<string>();
        for (const c of await this.#view.list()) {
          if (!isShowableName(c.name) || seen.has(c.name)) continue;
          seen.add(c.name);
          const size = (await this.#view.read(c.chat)).length;
          entries.push(nameEntry(fileName(c.name), fileAttrs(size, now)));
        }
      }
      if (this.#closed) return;
      const handle = this.#newHandle({ kind: "dir", entries, sent: 0 });
      this.#reply(() => this.#sftp.handle(id, handle));
    });
  }

  #readdir(id: number, handle: Uint8Array): void {
    const got = this.#get(handle);
    if (!got) return this.#status(id, SFTP_STATUS.FAILURE, "invalid handle");
    const h = got[1];
    if (h.kind !== "dir") return this.#status(id, SFTP_STATUS.FAILURE, "not a folder");
    if (h.sent >= h.entries.length) return this.#status(id, SFTP_STATUS.EOF);
    const batch = h.entries.slice(h.sent, h.sent + READDIR_BATCH);
    h.sent += batch.length;
    this.#reply(() => this.#sftp.name(id, batch));
  }

  async #realpath(id: number, path: string): Promise<void> {
    const node = resolvePath(path);
    if (!node || !(await this.#exists(node))) {
      return this.#status(id, SFTP_STATUS.NO_SUCH_FILE, `no such file: ${shown(path)}`);
    }
    const filename = nodePath(node);
    this.#reply(() => this.#sftp.name(id, [{ filename, longname: filename }]));
  }
}
