/**
 * The files this node knows of, one record per file entry, in the store:
 *
 *   ["file", chat, entry hash hex]  → FileRecord
 *   ["file-root", chat, root hex]   → entry hash hex (serving: is this root in the chat?)
 *
 * The signed entry is the truth; a record is the index and where a
 * transfer's state (fetching, refused and why, failed and why) is kept.
 */
import type { FileManifest } from "./manifest.ts";

/** Where a file stands here. */
export type FileState = "complete" | "fetching" | "refused" | "failed";

export interface FileRecord {
  /** The entry's hash (hex): the file's id here (its first 12 characters are shown). */
  readonly hash: string;
  readonly chat: string;
  /** The author's key, hex. */
  readonly author: string;
  readonly mine: boolean;
  readonly seq: number;
  readonly ts: number;
  readonly manifest: FileManifest;
  readonly state: FileState;
  /** Why it is refused or failed, or what the last attempt met (node-made text). */
  readonly reason?: string;
}

const fileKey = (chat: string, hash: string) => ["file", chat, hash] as const;
const rootKey = (chat: string, root: string) => ["file-root", chat, root] as const;

export class FileRecords {
  readonly #kv: Deno.Kv;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  async get(chat: string, hash: string): Promise<FileRecord | null> {
    return (await this.#kv.get<FileRecord>(fileKey(chat, hash))).value;
  }

  /** The record of the file with this root in `chat`. */
  async byRoot(chat: string, root: string): Promise<FileRecord | null> {
    const hash = (await this.#kv.get<string>(rootKey(chat, root))).value;
    return hash ? await this.get(chat, hash) : null;
  }

  /** Keeps a record (a new one only if none is held for the entry: returns false then). */
  async add(r: FileRecord): Promise<boolean> {
    const res = await this.#kv.atomic()
      .check({ key: fileKey(r.chat, r.hash), versionstamp: null })
      .set(fileKey(r.chat, r.hash), r)
      .set(rootKey(r.chat, r.manifest.root), r.hash)
      .commit();
    return res.ok;
  }

  /** Forgets a record (its entry is read again: group_files.ts retry). */
  async remove(r: FileRecord): Promise<void> {
    await this.#kv.atomic().delete(fileKey(r.chat, r.hash)).delete(rootKey(r.chat, r.manifest.root))
      .commit();
  }

  async update(r: FileRecord): Promise<void> {
    await this.#kv.set(fileKey(r.chat, r.hash), r);
  }

  /** Every record of a chat, oldest first. */
  async all(chat: string): Promise<FileRecord[]> {
    const out: FileRecord[] = [];
    for await (const e of this.#kv.list<FileRecord>({ prefix: ["file", chat] })) out.push(e.value);
    return out.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
  }
}
