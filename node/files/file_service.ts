/**
 * Files in 1:1 chats: sending (the file read into the chunk store, one
 * signed "file" entry), taking in a contact's file entries (checked against
 * the limits, then fetched from them whenever a session is up, resuming from
 * the chunks on disk), serving our files' chunks to the contact they were
 * sent to, and saving a complete file out of the store.
 */
import type { FileView, MessageView, NodeEvent } from "../api/mod.ts";
import type { Clock, TimerId } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import { fingerprint, type Signer } from "../identity/mod.ts";
import {
  type ChatLog,
  decodeEntry,
  directChatId,
  type Entry,
  entryHash,
  hasType,
  toHex,
} from "../log/mod.ts";
import { encodeB64, FILES_FEATURE, peerHas, type RpcSession } from "../protocol/mod.ts";
import type { SftpFile } from "../transport/mod.ts";
import type { ChatRef } from "../views/mod.ts";
import type { ChunkStore } from "./chunk_store.ts";
import { fetchFile, type Holder } from "./file_fetch.ts";
import { type FileRecord, FileRecords } from "./file_records.ts";
import { readRange, saveFile, sftpFilesOf } from "./file_reads.ts";
import { serveFiles } from "./file_serve.ts";
import {
  emitFile,
  type FileEvent,
  fileToSend,
  fileView,
  findFile,
  manifestOf,
  thumbOf,
  UNREADABLE,
} from "./file_common.ts";
import { type UploadPart, Uploads } from "./uploads.ts";
import { FILE_ENTRY_TYPE, type FileManifest, manifestBody, parseManifest } from "./manifest.ts";
import { admission, progressStep } from "./transfer_plan.ts";
import { checkRoom, DEFAULT_MIN_FREE, diskFull } from "./disk_room.ts";
import type { GroupFiles } from "./group_files.ts";

/** Size limits of files taken from contacts. */
export interface FileLimits {
  /** Largest file fetched (or sent). @default 2 GiB */
  readonly maxFileSize: number;
  /** Bytes of files one contact (or one group) may have stored here. @default 8 GiB */
  readonly quotaPerContact: number;
  /** Room kept free on the data folder's disk (disk_room.ts). @default 64 MiB */
  readonly minFree?: number;
}

/** An interrupted fetch whose sender is still connected is tried again after this long. */
export const RETRY_MS = 60_000;

export const DEFAULT_FILE_LIMITS: FileLimits = {
  maxFileSize: 2 * 1024 ** 3,
  quotaPerContact: 8 * 1024 ** 3,
};

export interface FileServiceDeps {
  readonly me: Uint8Array;
  readonly signer: Signer;
  readonly log: ChatLog;
  readonly kv: Deno.Kv;
  readonly chunks: ChunkStore;
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly limits: FileLimits;
  /** A chat by name (direct chats only are served here). @throws {RojError} not_found */
  chat(name: string): ChatRef;
  byId(id: string): ChatRef | undefined;
  /** The live session with `peer`, if any. */
  session(peer: Uint8Array): RpcSession | undefined;
  /** Our new entry in a direct chat: push it. */
  pushDirect(chat: string, peer: Uint8Array): void;
  /** An entry as a message, shown to followers. */
  show(chat: ChatRef, e: import("../log/mod.ts").Entry): void;
  /** Group files (group_files.ts): their chunks served beside ours, their uploads sent there. */
  readonly groups?: Pick<GroupFiles, "owns" | "send" | "find">;
}

export class FileService {
  readonly #d: FileServiceDeps;
  readonly records: FileRecords;
  /** Fetches running, by entry hash. */
  readonly #fetching = new Map<string, Promise<void>>();
  /** Held chunk counts of files being fetched (for views). */
  readonly #done = new Map<string, number>();
  readonly #unsubscribe: () => void;
  #uploads: Promise<Uploads> | undefined;
  /** Fetches the person cancelled, until they stop. */
  readonly #cancelled = new Set<string>();
  /** Retries waiting, by entry hash. */
  readonly #retries = new Map<string, TimerId>();

  constructor(deps: FileServiceDeps) {
    this.#d = deps;
    this.records = new FileRecords(deps.kv);
    this.#unsubscribe = deps.bus.subscribe((e) => {
      if (e.type === "message" && e.message.type === FILE_ENTRY_TYPE && !e.message.mine) {
        this.#arrived(e.message).catch((err) =>
          deps.bus.say(`file entry in ${e.message.chat}: ${(err as Error).message}`)
        );
      }
    });
  }

  close(): void {
    this.#unsubscribe();
    for (const t of this.#retries.values()) this.#d.clock.clearTimeout(t);
    this.#retries.clear();
  }

  /** Fetches `r` again in RETRY_MS, unless something else starts it first. */
  #later(r: FileRecord, peer: Uint8Array): void {
    if (this.#retries.has(r.hash)) return;
    const t = this.#d.clock.setTimeout(() => {
      this.#retries.delete(r.hash);
      this.records.get(r.chat, r.hash).then((now) => {
        if (now?.state === "fetching") this.#fetch(now, peer);
      }).catch(() => {});
    }, RETRY_MS);
    this.#d.clock.unref(t);
    this.#retries.set(r.hash, t);
  }

  #direct(name: string): ChatRef & { peer: NonNullable<ChatRef["peer"]> } {
    const chat = this.#d.chat(name);
    if (chat.kind !== "direct" || !chat.peer) {
      throw new RojError("bad_input", "files go in a chat with a contact (groups: not yet)");
    }
    return chat as ChatRef & { peer: NonNullable<ChatRef["peer"]> };
  }

  #emit(r: FileRecord, op: FileEventOp, extra: Partial<FileEvent> = {}): void {
    emitFile(this.#d.bus, r, this.#d.byId(r.chat)?.name ?? r.chat, op, extra);
  }

  /**
   * Sends the file at `path` to a contact's chat: read into the store a chunk
   * at a time (`progress` told the bytes read), then one signed entry.
   * @throws {RojError} bad_input (not a file, over the limit), not_found
   */
  async send(
    chatName: string,
    path: string,
    caption?: string,
    progress?: (bytes: number) => void,
    asName?: string,
  ): Promise<FileView> {
    const chat = this.#direct(chatName);
    const info = await fileToSend(path, this.#d.limits.maxFileSize);
    await checkRoom(this.#d.chunks.dir, info.size, this.#d.limits.minFree ?? DEFAULT_MIN_FREE);
    const imported = await this.#d.chunks.importFile(path, progress);
    const m = await manifestOf(imported, path, caption, asName);
    const e = await this.#d.log.append(chat.id, this.#d.signer, FILE_ENTRY_TYPE, manifestBody(m));
    const r: FileRecord = {
      hash: toHex(e.hash),
      chat: chat.id,
      author: toHex(this.#d.me),
      mine: true,
      seq: e.seq,
      ts: e.ts,
      manifest: m,
      state: "complete",
    };
    await this.records.add(r);
    this.#d.pushDirect(chat.id, chat.peer.publicKey);
    this.#d.show(chat, e);
    return this.#view(r, chat.name);
  }

  /** A contact's file entry came: take it in (limits first), and fetch it if they are online. */
  async #arrived(msg: MessageView): Promise<void> {
    const chat = this.#d.chat(msg.chat);
    if (chat.kind !== "direct" || !chat.peer) return; // a group's: group_files.ts
    // The view's body is a sentence: the manifest is the entry's own body.
    const [e] = await this.#d.log.entriesAfter(chat.id, chat.peer.publicKey, msg.seq - 1, 1);
    if (!e || toHex(e.hash) !== msg.hash) return;
    await this.#intake(chat.id, chat.name, chat.peer.publicKey, { ...msg, body: e.body });
  }

  /**
   * File entries of the chat with `peer` that have no record (a crash came
   * between storing an entry and recording it): recorded now, ours as held
   * if the store has them. Reads each chain once, from a mark kept per chat.
   */
  async #scan(peer: Uint8Array): Promise<void> {
    const chat = directChatId(this.#d.me, peer);
    const name = this.#d.byId(chat)?.name ?? fingerprint(peer);
    for (const author of [peer, this.#d.me]) {
      const key = ["file-scan", chat, toHex(author)];
      let after = (await this.#d.kv.get<number>(key)).value ?? 0;
      for (;;) {
        // Bytes, not entries: only a file entry is worth hashing (a chain of 20,000 messages was).
        const batch = await this.#d.log.rawEntriesAfter(chat, author, after, 1000);
        if (batch.length === 0) break;
        for (const raw of batch) {
          if (!hasType(raw.signed, FILE_ENTRY_TYPE)) continue;
          const fields = decodeEntry(raw.signed);
          const e: Entry = {
            ...fields,
            signed: raw.signed,
            sig: raw.sig,
            hash: entryHash(raw.signed),
          };
          const hash = toHex(e.hash);
          if (author === peer) {
            await this.#intake(chat, name, peer, { hash, seq: e.seq, ts: e.ts, body: e.body });
          } else if (!await this.records.get(chat, hash)) await this.#ownFound(chat, e, hash);
        }
        after = batch.at(-1)!.seq;
        await this.#d.kv.set(key, after);
      }
    }
  }

  /** One of our file entries without a record: held if the store has its list. */
  async #ownFound(chat: string, e: Entry, hash: string): Promise<void> {
    let m: FileManifest;
    try {
      m = parseManifest(e.body);
    } catch {
      return;
    }
    const held = await this.#d.chunks.list(m.root);
    await this.records.add({
      hash,
      chat,
      author: toHex(this.#d.me),
      mine: true,
      seq: e.seq,
      ts: e.ts,
      manifest: m,
      ...(held ? { state: "complete" } : { state: "failed", reason: "not in this node's store" }),
    });
  }

  async #intake(
    chatId: string,
    chatName: string,
    peer: Uint8Array,
    msg: { hash: string; seq: number; ts: number; body: string },
  ): Promise<void> {
    const chat = { id: chatId, name: chatName, peer: { publicKey: peer } };
    if (await this.records.get(chat.id, msg.hash)) return;
    const base = {
      hash: msg.hash,
      chat: chat.id,
      author: toHex(peer),
      mine: false,
      seq: msg.seq,
      ts: msg.ts,
    };
    let m: FileManifest;
    try {
      m = parseManifest(msg.body);
    } catch (err) {
      const r: FileRecord = {
        ...base,
        manifest: UNREADABLE,
        state: "failed",
        reason: (err as Error).message,
      };
      if (await this.records.add(r)) this.#emit(r, "failed", { reason: r.reason! });
      return;
    }
    const used = (await this.records.all(chat.id))
      .filter((x) => !x.mine && (x.state === "complete" || x.state === "fetching"))
      .reduce((n, x) => n + x.manifest.size, 0);
    const refusal = admission(m.size, this.#d.limits, used);
    const r: FileRecord = refusal
      ? { ...base, manifest: m, state: "refused", reason: refusal }
      : { ...base, manifest: m, state: "fetching" };
    if (!await this.records.add(r)) return;
    if (refusal) {
      this.#emit(r, "refused", { reason: refusal, done: 0 });
      this.#d.bus.say(`not fetching ${m.name} from ${chat.name}: ${refusal}`);
      return;
    }
    this.#fetch(r, chat.peer.publicKey);
  }

  /** A session with `peer` came up: resume every unfinished file of theirs. */
  async up(peer: Uint8Array): Promise<void> {
    await this.#scan(peer);
    const chat = directChatId(this.#d.me, peer);
    for (const r of await this.records.all(chat)) {
      if (r.state === "fetching" && !r.mine) this.#fetch(r, peer);
    }
  }

  /** Serves our files' chunks to `peer` on its session. */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    const chat = directChatId(this.#d.me, peer);
    serveFiles(rpc, {
      chunks: this.#d.chunks,
      find: async (root) =>
        await this.records.byRoot(chat, root) ?? await this.#d.groups?.find(root, peer) ?? null,
      served: (r, done, total) =>
        this.#emit(r, done === total ? "complete" : "progress", { done, total }),
    });
  }

  #fetch(r: FileRecord, peer: Uint8Array): void {
    if (this.#fetching.has(r.hash)) return;
    const rpc = this.#d.session(peer);
    if (!rpc || !peerHas(rpc.peerHello, FILES_FEATURE)) return;
    const run = this.#run(r, rpc, peer).catch((err) =>
      this.#d.bus.say(`fetching ${r.manifest.name}: ${(err as Error).message}`)
    ).finally(() => {
      this.#fetching.delete(r.hash);
      this.#done.delete(r.hash);
    });
    this.#fetching.set(r.hash, run);
  }

  async #run(r: FileRecord, holder: Holder & RpcSession, peer: Uint8Array): Promise<void> {
    try {
      await checkRoom(
        this.#d.chunks.dir,
        r.manifest.size,
        this.#d.limits.minFree ?? DEFAULT_MIN_FREE,
      );
    } catch (err) {
      const failed: FileRecord = { ...r, state: "failed", reason: (err as Error).message };
      await this.records.update(failed);
      this.#emit(failed, "failed", { reason: failed.reason!, done: 0 });
      return;
    }
    let told = -1;
    const out = await fetchFile(r.manifest, this.#d.chunks, holder, {
      progress: (p) => {
        this.#done.set(r.hash, p.done);
        const step = progressStep(told, p.done, p.total);
        if (step === null) return;
        told = step;
        if (p.done < p.total) {
          this.#emit(r, "progress", { done: p.done, total: p.total, fetched: p.fetched });
        }
      },
      badChunk: (index) => this.#emit(r, "bad-chunk", { index, done: this.#done.get(r.hash) ?? 0 }),
      cancelled: () => this.#cancelled.has(r.hash),
    });
    if (this.#cancelled.delete(r.hash)) return; // cancel() recorded it
    const name = this.#d.byId(r.chat)?.name ?? r.chat;
    if (out.kind === "complete") {
      const done: FileRecord = {
        hash: r.hash,
        chat: r.chat,
        author: r.author,
        mine: r.mine,
        seq: r.seq,
        ts: r.ts,
        manifest: r.manifest,
        state: "complete",
      };
      await this.records.update(done);
      this.#emit(done, "complete", { fetched: out.fetched });
      this.#d.bus.say(`received ${r.manifest.name} from ${name} (${r.manifest.size} bytes)`);
    } else if (out.kind === "failed") {
      const failed: FileRecord = { ...r, state: "failed", reason: out.reason };
      await this.records.update(failed);
      this.#emit(failed, "failed", {
        reason: out.reason,
        done: this.#done.get(r.hash) ?? 0,
        fetched: out.fetched,
      });
      this.#d.bus.say(`fetching ${r.manifest.name} from ${name} failed: ${out.reason}`);
    } else {
      const reason = `interrupted: ${diskFull(out.reason)}; resumes when ${name} is back`;
      await this.records.update({ ...r, reason });
      // The sender is still there but did not give it (no chunk, no answer): ask again later.
      if (!holder.closed) this.#later(r, peer);
      this.#emit(r, "interrupted", {
        reason,
        done: this.#done.get(r.hash) ?? 0,
        fetched: out.fetched,
      });
    }
  }

  /** Asks again for a failed or unfinished file of a chat (from its sender, if online). */
  async retry(chatName: string, id: string): Promise<FileView> {
    const chat = this.#direct(chatName);
    const r = await this.#find(chat, id);
    if (r.state === "refused") throw new RojError("refused", `not fetched: ${r.reason}`);
    if (r.mine && r.state === "failed" && await this.#d.chunks.list(r.manifest.root)) {
      const { reason: _, ...rest } = r;
      await this.records.update({ ...rest, state: "complete" }); // served again
    }
    if (r.state !== "complete" && !r.mine) {
      // A cancelled fetch may still be winding down: let it end first.
      if (this.#cancelled.has(r.hash)) await this.#fetching.get(r.hash);
      const again: FileRecord = { ...r, state: "fetching" };
      await this.records.update(again);
      this.#fetch(again, chat.peer.publicKey);
    }
    return this.#view(await this.#find(chat, id), chat.name);
  }

  /**
   * Cancels a file: one being fetched stops (`retry` resumes it from its
   * chunks); one of ours is no longer served to the contact (`retry` serves
   * it again). @throws {RojError} refused for a file already here in full
   */
  async cancel(chatName: string, id: string): Promise<FileView> {
    const chat = this.#direct(chatName);
    const r = await this.#find(chat, id);
    if (!r.mine && r.state !== "fetching") {
      throw new RojError("refused", `${r.manifest.name} is ${r.state}: nothing to cancel`);
    }
    const reason = r.mine ? "cancelled: no longer sent" : "cancelled here";
    const failed: FileRecord = { ...r, state: "failed", reason };
    await this.records.update(failed);
    if (this.#fetching.has(r.hash)) this.#cancelled.add(r.hash);
    const t = this.#retries.get(r.hash);
    if (t !== undefined) (this.#d.clock.clearTimeout(t), this.#retries.delete(r.hash));
    this.#emit(failed, "failed", { reason, done: this.#done.get(r.hash) ?? 0 });
    return this.#view(failed, chat.name);
  }

  #find(chat: ChatRef, id: string): Promise<FileRecord> {
    return findFile(this.records, chat, id);
  }

  /** The files of a chat. */
  async list(chatName: string): Promise<FileView[]> {
    const chat = this.#direct(chatName);
    const out: FileView[] = [];
    for (const r of await this.records.all(chat.id)) out.push(await this.#view(r, chat.name));
    return out;
  }

  #view(r: FileRecord, chatName: string): Promise<FileView> {
    const from = this.#d.byId(r.chat)?.name ?? fingerprint(hexBytes(r.author));
    const active = this.#fetching.has(r.hash);
    return fileView(this.#d.chunks, r, { chat: chatName, from }, this.#done, active);
  }

  /** The sender's thumbnail of a file, base64. @throws {RojError} not_found when it has none */
  async thumb(chatName: string, id: string): Promise<{ b: string }> {
    return thumbOf(await this.#find(this.#direct(chatName), id));
  }

  /** One part of a file the admin uploads (uploads.ts); the last sends it. */
  async upload(p: UploadPart): Promise<{ upload: string; received: number; file?: FileView }> {
    this.#uploads ??= Uploads.open(
      this.#d.chunks.dir,
      this.#d.limits.maxFileSize,
      (chat, path, name, caption) =>
        (this.#d.groups?.owns(chat) ? this.#d.groups : this).send(
          chat,
          path,
          caption,
          undefined,
          name,
        ),
    );
    if (!this.#d.groups?.owns(p.chat)) this.#direct(p.chat);
    return await (await this.#uploads).part(p);
  }

  /**
   * Up to `length` bytes of a complete file from `offset`, in base64.
   * @throws {RojError} refused while incomplete; not_found
   */
  async readRange(chatName: string, id: string, offset: number, length: number) {
    const r = await this.#find(this.#direct(chatName), id);
    const { bytes, size } = await readRange(this.#d.chunks, r, offset, length);
    return { b: encodeB64(bytes), size, name: r.manifest.name };
  }

  /**
   * The complete files of our chat with `peer`, for its SFTP view
   * (`/files/<chat>/<name>`), each read a range at a time from the chunks.
   */
  async sftpFiles(peer: Uint8Array, chatName: string): Promise<SftpFile[]> {
    const records = await this.records.all(directChatId(this.#d.me, peer));
    return await sftpFilesOf(this.#d.chunks, records, chatName);
  }

  /**
   * Writes a complete file into `outDir` under its name (never over an
   * existing file: "name (1).ext" and so on), a chunk at a time.
   * @throws {RojError} refused while incomplete; not_found
   */
  async save(chatName: string, id: string, outDir: string) {
    return await saveFile(this.#d.chunks, await this.#find(this.#direct(chatName), id), outDir);
  }
}

export type FileEventOp = Extract<NodeEvent, { type: "file" }>["op"];

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** Opens `<dir>/<name>` new, or "<stem> (n)<ext>" when taken. */
