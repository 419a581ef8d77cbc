/**
 * Files in groups (issue 15, item 4; group_file_crypto.ts has the format):
 * sending (the file sealed a chunk at a time into the store, one group
 * message of type "gfile" under the epoch the writer uses), taking in
 * members' file entries (decrypted, checked against the limits), fetching
 * the sealed chunks from whichever holder has them (members online who list
 * gfiles1, then anchors), offering the complete ones we hold (ours, and
 * those we fetched) to the anchors, and reading a complete file back in plain.
 */
import { base64 } from "@scure/base";
import type { FileView } from "../api/mod.ts";
import type { Clock, TimerId } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { Signer } from "../identity/mod.ts";
import { GROUP_FILE_TYPE, type GroupBook } from "../groups/mod.ts";
import { type ChatLog, type Entry, toHex } from "../log/mod.ts";
import { encodeB64, GROUP_FILES_FEATURE, peerHas, type RpcSession } from "../protocol/mod.ts";
import { escapeControl } from "../text/mod.ts";
import type { SftpFile } from "../transport/mod.ts";
import type { ChatRef } from "../views/mod.ts";
import type { ChunkStore } from "./chunk_store.ts";
import { fetchFile } from "./file_fetch.ts";
import { type FileRecord, FileRecords } from "./file_records.ts";
import { type FileLimits, RETRY_MS } from "./file_service.ts";
import { groupSftpFiles, readPlainRange, savePlain } from "./group_file_reads.ts";
import {
  groupManifestText,
  importSealed,
  parseGroupManifest,
  sealedManifest,
} from "./group_file_crypto.ts";
import { FILE_ENTRY_TYPE } from "./manifest.ts";
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
import { admission, progressStep } from "./transfer_plan.ts";
import { anchorOffers } from "./anchor_offers.ts";
import { checkRoom, DEFAULT_MIN_FREE } from "./disk_room.ts";

/** A group file's record: the plain manifest and the file's key (base64). */
export interface GroupFileRecord extends FileRecord {
  readonly k: string;
}

/** A live session that may hold a group's file chunks. */
export interface FileHolder {
  readonly peer: Uint8Array;
  readonly rpc: RpcSession;
  readonly anchor: boolean;
}

export interface GroupFilesDeps {
  readonly me: Uint8Array;
  readonly signer: Signer;
  readonly log: ChatLog;
  readonly kv: Deno.Kv;
  readonly chunks: ChunkStore;
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly limits: FileLimits;
  readonly book: GroupBook;
  /** A chat by name. @throws {RojError} not_found */
  chat(name: string): ChatRef;
  byId(id: string): ChatRef | undefined;
  /** Live sessions with contacts. */
  sessions(): readonly FileHolder[];
  /** Whether the contact is an anchor (as the person accepted it). */
  isAnchor(peer: Uint8Array): boolean;
  /** Our new entries in a group: show them and let them go out. */
  written(chat: ChatRef, entries: Entry[]): Promise<void>;
  /** How a member (hex) is named here. */
  memberName(chat: string, hex: string): string;
  /** How a holder (a contact) is named here. */
  peerName(peer: Uint8Array): string;
}

/** How long an anchor may take to fetch a file we offer it, per MiB and at least. */
const OFFER_MS_PER_MIB = 2_000;
const OFFER_MIN_MS = 60_000;

export class GroupFiles {
  readonly #d: GroupFilesDeps;
  readonly records: FileRecords;
  readonly #fetching = new Map<string, Promise<void>>();
  readonly #done = new Map<string, number>();
  readonly #cancelled = new Set<string>();
  readonly #scans = new Map<string, Promise<void>>();
  /** Retries waiting, by entry hash. */
  readonly #retries = new Map<string, TimerId>();
  /** Per file being fetched, the holders (hex) that gave what failed its check: asked last. */
  readonly #bad = new Map<string, Set<string>>();
  readonly #unsubscribe: () => void;

  constructor(deps: GroupFilesDeps) {
    this.#d = deps;
    this.records = new FileRecords(deps.kv);
    this.#unsubscribe = deps.bus.subscribe((e) => {
      if (e.type !== "message" || e.message.type !== FILE_ENTRY_TYPE || e.message.mine) return;
      const chat = this.#ref(e.message.chat);
      if (chat) this.scan(chat.id).catch(() => {});
    });
  }

  close(): void {
    this.#unsubscribe();
    for (const t of this.#retries.values()) this.#d.clock.clearTimeout(t);
    this.#retries.clear();
  }

  get #spare(): number {
    return this.#d.limits.minFree ?? DEFAULT_MIN_FREE;
  }

  #ref(name: string): ChatRef | undefined {
    try {
      const c = this.#d.chat(name);
      return c.kind === "group" ? c : undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether `chatName` names a group (its files are served here). */
  owns(chatName: string): boolean {
    return this.#ref(chatName) !== undefined;
  }

  #group(name: string): ChatRef {
    const c = this.#d.chat(name);
    if (c.kind !== "group") throw new RojError("bad_input", `${name} is not a group`);
    return c;
  }

  #emit(r: FileRecord, op: FileEvent["op"], extra: Partial<FileEvent> = {}): void {
    emitFile(this.#d.bus, r, this.#d.byId(r.chat)?.name ?? r.chat, op, extra);
  }

  async #add(r: GroupFileRecord): Promise<boolean> {
    if (!await this.records.add(r)) return false;
    await this.#d.kv.set(["gfile-root", r.manifest.root], r.chat);
    return true;
  }

  /**
   * Sends the file at `path` to a group: sealed into the store a chunk at a
   * time, one encrypted entry, then offered to the anchors.
   * @throws {RojError} bad_input, not_found, refused (not a member, no room on disk)
   */
  async send(
    chatName: string,
    path: string,
    caption?: string,
    progress?: (bytes: number) => void,
    asName?: string,
  ): Promise<FileView> {
    const chat = this.#group(chatName);
    const info = await fileToSend(path, this.#d.limits.maxFileSize);
    if (!this.#d.book.isMember(chat.id, this.#d.me)) {
      throw new RojError("refused", `you are no longer a member of ${chat.name}`);
    }
    await checkRoom(this.#d.chunks.dir, info.size, this.#spare);
    const k = crypto.getRandomValues(new Uint8Array(32));
    const imported = await importSealed(this.#d.chunks, path, k, chat.id, progress);
    const m = await manifestOf(imported, path, caption, asName);
    const entries = await this.#d.book.send(
      this.#d.signer,
      chat.id,
      groupManifestText({ ...m, k }),
      GROUP_FILE_TYPE,
    );
    const e = entries.at(-1)!;
    const r: GroupFileRecord = {
      hash: toHex(e.hash),
      chat: chat.id,
      author: toHex(this.#d.me),
      mine: true,
      seq: e.seq,
      ts: e.ts,
      manifest: m,
      state: "complete",
      k: base64.encode(k),
    };
    await this.#add(r);
    await this.#d.written(chat, entries);
    this.#offerAll([r]).catch(() => {});
    return await this.#view(r);
  }

  /**
   * Offers `records` to the anchors online (or to `only`) not known to hold
   * them (anchor_offers.ts): one offer at a time per anchor, as the anchor
   * fetches each from us before it answers.
   */
  async #offerAll(records: readonly FileRecord[], only?: FileHolder): Promise<void> {
    const anchors = [];
    for (const s of only ? [only] : this.#d.sessions()) {
      if (!s.anchor || !peerHas(s.rpc.peerHello, GROUP_FILES_FEATURE)) continue;
      const held = new Set<string>();
      for await (const e of this.#d.kv.list({ prefix: ["gfile-anchored", toHex(s.peer)] })) {
        held.add(e.key[2] as string);
      }
      anchors.push({ anchor: s, held });
    }
    await Promise.all(
      anchorOffers(records, anchors).map(async ({ anchor, files }) => {
        for (const r of files) await this.#offer(r, anchor).catch(() => {});
      }),
    );
  }

  /** Offers a complete file we hold to an anchor, which fetches its sealed chunks from us. */
  async #offer(r: FileRecord, s: FileHolder): Promise<void> {
    if (r.state !== "complete" || !peerHas(s.rpc.peerHello, GROUP_FILES_FEATURE)) return;
    const key = ["gfile-anchored", toHex(s.peer), r.manifest.root];
    if ((await this.#d.kv.get(key)).value) return;
    const wire = sealedManifest(r.manifest);
    const ms = Math.max(OFFER_MIN_MS, Math.ceil(wire.size / 2 ** 20) * OFFER_MS_PER_MIB);
    const res = await s.rpc.request(
      "gfile.offer",
      { root: wire.root, size: wire.size, chunk: wire.chunk },
      ms,
    );
    if (res.held) {
      await this.#d.kv.set(key, true);
      this.#emit(r, "anchored", { anchor: this.#d.peerName(s.peer) });
    } else {
      // The anchor's words are a peer's text: escaped.
      const why = escapeControl(res.reason ?? "no reason given");
      this.#d.bus.say(`${this.#d.peerName(s.peer)} did not take ${r.manifest.name}: ${why}`);
      // A file we fetched is still complete here: the anchor's no is not its state.
      if (r.mine) this.#emit(r, "refused", { reason: why, anchor: this.#d.peerName(s.peer) });
    }
  }

  /**
   * File entries of group `chat` that have no record: taken in now (each
   * author's chain read once, from a mark kept per author).
   */
  scan(chat: string): Promise<void> {
    const prior = this.#scans.get(chat) ?? Promise.resolve();
    const run = prior.then(() => this.#scan(chat)).catch((err) =>
      this.#d.bus.say(`group files: ${(err as Error).message}`)
    );
    this.#scans.set(chat, run);
    return run;
  }

  async #scan(chat: string): Promise<void> {
    const me = toHex(this.#d.me);
    for (const author of this.#d.book.everMembers(chat)) {
      if (toHex(author) === me) continue;
      const key = ["gfile-scan", chat, toHex(author)];
      let after = (await this.#d.kv.get<number>(key)).value ?? 0;
      for (;;) {
        const batch = await this.#d.log.entriesAfter(chat, author, after, 1000);
        if (batch.length === 0) break;
        for (const e of batch) if (e.type === GROUP_FILE_TYPE) await this.#intake(chat, e);
        after = batch.at(-1)!.seq;
        await this.#d.kv.set(key, after);
      }
    }
  }

  async #intake(chat: string, e: Entry): Promise<void> {
    const hash = toHex(e.hash);
    if (await this.records.get(chat, hash)) return;
    const base = { hash, chat, author: toHex(e.author), mine: false, seq: e.seq, ts: e.ts };
    // Read as any group entry is: decrypted, and only if its author was a member when writing it.
    const book = this.#d.book;
    const [line] = await book.lines(chat, [e], (hex) => hex, { all: book.context(chat, [e]) });
    const text = line?.text ?? "(cannot decrypt)";
    let r: GroupFileRecord;
    try {
      if (text.startsWith("(")) throw new RojError("refused", text.slice(1, -1));
      const m = parseGroupManifest(text);
      const { k, ...plain } = m;
      const used = (await this.records.all(chat))
        .filter((x) => !x.mine && (x.state === "complete" || x.state === "fetching"))
        .reduce((n, x) => n + x.manifest.size, 0);
      const refusal = admission(m.size, this.#d.limits, used, "group");
      r = refusal
        ? { ...base, manifest: plain, state: "refused", reason: refusal, k: "" }
        : { ...base, manifest: plain, state: "fetching", k: base64.encode(k) };
    } catch (err) {
      r = {
        ...base,
        manifest: UNREADABLE,
        state: "failed",
        reason: (err as Error).message,
        k: "",
      };
    }
    if (!await this.#add(r)) return;
    if (r.state === "fetching") return this.#fetch(r);
    const op = r.state === "refused" ? "refused" : "failed";
    this.#emit(r, op, { reason: r.reason!, done: 0 });
  }

  /**
   * Holders worth asking for a file of `chat`: members online first, then
   * anchors, and last those that gave a chunk failing its check (`bad`).
   */
  #holders(chat: string, bad: ReadonlySet<string> = new Set()): FileHolder[] {
    const ok = this.#d.sessions().filter((s) =>
      !s.rpc.closed && peerHas(s.rpc.peerHello, GROUP_FILES_FEATURE) &&
      (s.anchor || this.#d.book.isMember(chat, s.peer))
    );
    const rank = (s: FileHolder) => (bad.has(toHex(s.peer)) ? 2 : 0) + (s.anchor ? 1 : 0);
    return ok.map((s) => ({ s, k: rank(s) })).sort((x, y) => x.k - y.k).map((x) => x.s);
  }

  #fetch(r: GroupFileRecord): void {
    if (this.#fetching.has(r.hash)) return;
    const run = this.#run(r).catch((err) =>
      this.#d.bus.say(`fetching ${r.manifest.name}: ${(err as Error).message}`)
    ).finally(() => {
      this.#fetching.delete(r.hash);
      this.#done.delete(r.hash);
    });
    this.#fetching.set(r.hash, run);
  }

  async #run(r: GroupFileRecord): Promise<void> {
    const wire = sealedManifest(r.manifest);
    const tried = new Set<string>();
    let fetched = 0;
    let last = "";
    try {
      await checkRoom(this.#d.chunks.dir, wire.size, this.#spare);
    } catch (err) {
      const failed: GroupFileRecord = { ...r, state: "failed", reason: (err as Error).message };
      await this.records.update(failed);
      this.#emit(failed, "failed", { reason: failed.reason!, done: 0 });
      return;
    }
    for (;;) {
      const bad = this.#bad.get(r.hash);
      const h = this.#holders(r.chat, bad).find((s) => !tried.has(toHex(s.peer)));
      if (!h) break;
      tried.add(toHex(h.peer));
      let told = -1;
      const out = await fetchFile(wire, this.#d.chunks, h.rpc, {
        progress: (p) => {
          this.#done.set(r.hash, p.done);
          const step = progressStep(told, p.done, p.total);
          if (step === null || p.done === p.total) return;
          told = step;
          this.#emit(r, "progress", { done: p.done, total: p.total, fetched: fetched + p.fetched });
        },
        badChunk: (index) =>
          this.#emit(r, "bad-chunk", { index, done: this.#done.get(r.hash) ?? 0 }),
        cancelled: () => this.#cancelled.has(r.hash),
      });
      fetched += out.fetched;
      if (this.#cancelled.delete(r.hash)) return;
      const from = this.#d.peerName(h.peer);
      if (out.kind === "complete") {
        const { reason: _, ...rest } = r;
        const done: GroupFileRecord = { ...rest, state: "complete" };
        await this.records.update(done);
        this.#bad.delete(r.hash);
        this.#emit(done, "complete", { fetched, from });
        this.#d.bus.say(
          `received ${r.manifest.name} in ${this.#d.byId(r.chat)?.name} from ${from}`,
        );
        // An anchor it came from holds it; the others online are offered it, for offline members.
        if (h.anchor) {
          await this.#d.kv.set(["gfile-anchored", toHex(h.peer), r.manifest.root], true);
        }
        this.#offerAll([done]).catch(() => {});
        return;
      }
      last = `${from}: ${out.reason}`;
      if (out.kind === "failed") this.#bad.set(r.hash, new Set([...bad ?? [], toHex(h.peer)]));
    }
    const reason = tried.size === 0
      ? "waiting for a member or an anchor that holds it"
      : `interrupted (${last}); resumes when another holder is online`;
    await this.records.update({ ...r, reason } as GroupFileRecord);
    this.#emit(r, "interrupted", { reason, done: this.#done.get(r.hash) ?? 0, fetched });
    // A holder still connected did not give it (busy, no answer): ask again later.
    if (this.#holders(r.chat).length > 0) this.#later(r);
  }

  /** Fetches `r` again in RETRY_MS, unless something else starts it first. */
  #later(r: GroupFileRecord): void {
    if (this.#retries.has(r.hash)) return;
    const t = this.#d.clock.setTimeout(() => {
      this.#retries.delete(r.hash);
      this.records.get(r.chat, r.hash).then((now) => {
        if (now?.state === "fetching") this.#fetch(now as GroupFileRecord);
      }).catch(() => {});
    }, RETRY_MS);
    this.#d.clock.unref(t);
    this.#retries.set(r.hash, t);
  }

  /** A session came up: scan and resume what it may hold; offer an anchor the files we hold. */
  async up(s: FileHolder): Promise<void> {
    if (!peerHas(s.rpc.peerHello, GROUP_FILES_FEATURE)) return;
    const offers: FileRecord[] = [];
    for (const g of this.#d.book.all()) {
      if (!s.anchor && !this.#d.book.isMember(g.id, s.peer)) continue;
      await this.scan(g.id);
      for (const r of await this.records.all(g.id) as GroupFileRecord[]) {
        if (r.state === "fetching" && !r.mine) this.#fetch(r);
        if (s.anchor) offers.push(r);
      }
    }
    if (s.anchor) await this.#offerAll(offers, s);
  }

  /** The record of a group file with this root, when `peer` may have its sealed chunks. */
  async find(root: string, peer: Uint8Array): Promise<FileRecord | null> {
    const chat = (await this.#d.kv.get<string>(["gfile-root", root])).value;
    if (!chat) return null;
    const member = this.#d.book.isMember(chat, peer) && this.#d.book.isMember(chat, this.#d.me);
    if (!member && !this.#d.isAnchor(peer)) return null;
    return await this.records.byRoot(chat, root);
  }

  async #find(chat: ChatRef, id: string): Promise<GroupFileRecord> {
    return await findFile(this.records, chat, id) as GroupFileRecord;
  }

  async list(chatName: string): Promise<FileView[]> {
    const chat = this.#group(chatName);
    const out: FileView[] = [];
    for (const r of await this.records.all(chat.id)) out.push(await this.#view(r));
    return out;
  }

  #view(r: FileRecord): Promise<FileView> {
    const names = {
      chat: this.#d.byId(r.chat)?.name ?? r.chat,
      from: this.#d.memberName(r.chat, r.author),
    };
    return fileView(this.#d.chunks, r, names, this.#done, this.#fetching.has(r.hash));
  }

  /** Asks again for a file not complete here (from any holder online). */
  async retry(chatName: string, id: string): Promise<FileView> {
    const chat = this.#group(chatName);
    const r = await this.#find(chat, id);
    if (r.state === "refused") throw new RojError("refused", `not fetched: ${r.reason}`);
    if (r.mine && r.state === "failed" && await this.#d.chunks.list(r.manifest.root)) {
      const { reason: _, ...rest } = r;
      await this.records.update({ ...rest, state: "complete" }); // served again
    }
    if (r.mine) {
      // Offered again to the anchors online that do not hold it yet.
      this.#offerAll([await this.#find(chat, id)]).catch(() => {});
    }
    if (!r.mine && !r.k) {
      // Not read when it came (no key to its epoch yet, say): read it again from the log.
      await this.records.remove(r);
      const author = Uint8Array.from(r.author.match(/../g)!, (b) => parseInt(b, 16));
      const [e] = await this.#d.log.entriesAfter(r.chat, author, r.seq - 1, 1);
      if (e && toHex(e.hash) === r.hash) await this.#intake(r.chat, e);
    } else if (r.state !== "complete" && !r.mine) {
      if (this.#cancelled.has(r.hash)) await this.#fetching.get(r.hash);
      const again: GroupFileRecord = { ...r, state: "fetching" };
      await this.records.update(again);
      this.#fetch(again);
    }
    return await this.#view(await this.#find(chat, id));
  }

  /**
   * Stops fetching a file, or serving one of ours (anchors that took it
   * keep it); `retry` takes either up again.
   * @throws {RojError} refused for a file already here in full
   */
  async cancel(chatName: string, id: string): Promise<FileView> {
    const r = await this.#find(this.#group(chatName), id);
    if (!r.mine && r.state !== "fetching") {
      throw new RojError("refused", `${r.manifest.name} is ${r.state}: nothing to cancel`);
    }
    const reason = r.mine
      ? "cancelled: no longer sent (an anchor that took it still has it)"
      : "cancelled here";
    const failed: GroupFileRecord = { ...r, state: "failed", reason };
    await this.records.update(failed);
    if (this.#fetching.has(r.hash)) this.#cancelled.add(r.hash);
    const t = this.#retries.get(r.hash);
    if (t !== undefined) (this.#d.clock.clearTimeout(t), this.#retries.delete(r.hash));
    this.#emit(failed, "failed", { reason: failed.reason!, done: this.#done.get(r.hash) ?? 0 });
    return await this.#view(failed);
  }

  async thumb(chatName: string, id: string): Promise<{ b: string }> {
    return thumbOf(await this.#find(this.#group(chatName), id));
  }

  /** Up to `length` plain bytes of a complete file from `offset`, in base64. */
  async readRange(chatName: string, id: string, offset: number, length: number) {
    const r = await this.#find(this.#group(chatName), id);
    const { bytes, size } = await readPlainRange(this.#d.chunks, r, offset, length);
    return { b: encodeB64(bytes), size, name: r.manifest.name };
  }

  /**
   * The complete files of the groups `peer` and this node are both in, for
   * its SFTP view (`/files/<group>/<name>`), opened a range at a time.
   */
  async sftpFiles(peer: Uint8Array): Promise<SftpFile[]> {
    const out: SftpFile[] = [];
    for (const g of this.#d.book.sharedWith(peer)) {
      const records = await this.records.all(g.id) as GroupFileRecord[];
      out.push(...groupSftpFiles(this.#d.chunks, records, g.name));
    }
    return out;
  }

  /** Writes a complete file, opened, into `outDir` (never over an existing file). */
  async save(chatName: string, id: string, outDir: string) {
    return await savePlain(this.#d.chunks, await this.#find(this.#group(chatName), id), outDir);
  }
}
