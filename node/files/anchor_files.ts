/**
 * An anchor holding group files for offline members (issue 15, item 4): a
 * member offers one of its files (`gfile.offer`: root, sealed size and chunk
 * size), the anchor fetches the sealed chunks back from it with files.list
 * and files.get, each checked as any fetch checks them, and then serves them
 * to any contact that names the root (it learns the root only from a member:
 * the group entry naming it is encrypted). It sees ciphertext only: no name,
 * no key, no group. Bounded by a quota per uploader and a cap on the whole,
 * checked before the fetch, and by the room on its disk; a file is dropped
 * (its record, list and chunks) once older than the expiry, as mailbox
 * boxes are, looked at before each offer is judged.
 *
 *   ["anchor-file", root] → { up: uploader hex, size, chunk, at, held }
 */
import { toHex } from "../log/mod.ts";
import type { RpcSession } from "../protocol/mod.ts";
import type { ChunkStore } from "./chunk_store.ts";
import { checkRoom, DEFAULT_MIN_FREE } from "./disk_room.ts";
import { fetchFile } from "./file_fetch.ts";
import type { FileRecord } from "./file_records.ts";
import { serveFiles } from "./file_serve.ts";
import type { FileManifest } from "./manifest.ts";

export interface AnchorFileLimits {
  /** Bytes of sealed chunks one member may have held here. @default 1 GiB */
  readonly perUploaderBytes: number;
  /** Bytes held in all. @default 8 GiB */
  readonly totalBytes: number;
  /** Room kept free on the disk. @default 64 MiB */
  readonly minFree?: number;
  /** How long a file is held after it was taken, in ms. @default 30 days */
  readonly ttlMs: number;
}

export const DEFAULT_ANCHOR_FILE_LIMITS: AnchorFileLimits = {
  perUploaderBytes: 1024 ** 3,
  totalBytes: 8 * 1024 ** 3,
  ttlMs: 30 * 86_400_000,
};

interface Held {
  readonly up: string;
  readonly size: number;
  readonly chunk: number;
  readonly at: number;
  readonly held: boolean;
}

/** Why an offer of `size` bytes is refused, or null (pure: the usage is given). */
export function offerRefusal(
  size: number,
  mine: number,
  all: number,
  limits: AnchorFileLimits,
): string | null {
  if (mine + size > limits.perUploaderBytes) {
    return `your files would take ${mine + size} bytes here, over the quota of ` +
      `${limits.perUploaderBytes} bytes per member`;
  }
  if (all + size > limits.totalBytes) {
    return `the anchor's files would take ${
      all + size
    } bytes, over its cap of ${limits.totalBytes}`;
  }
  return null;
}

export class AnchorFiles {
  readonly #kv: Deno.Kv;
  readonly #chunks: ChunkStore;
  readonly #limits: AnchorFileLimits;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  /** Fetches under way, by root. */
  readonly #taking = new Map<string, Promise<{ held: boolean; reason?: string }>>();
  /** Files held in full, and their sealed bytes (for status). */
  #held = { files: 0, bytes: 0 };

  /** Opens the anchor's group files, counting what it holds. */
  static async open(
    kv: Deno.Kv,
    chunks: ChunkStore,
    o: { limits?: AnchorFileLimits; now: () => number; log: (line: string) => void },
  ): Promise<AnchorFiles> {
    const a = new AnchorFiles(kv, chunks, o);
    await a.#count();
    return a;
  }

  /** Group files held in full here, and their sealed bytes. */
  get usage(): { readonly files: number; readonly bytes: number } {
    return this.#held;
  }

  async #count(): Promise<void> {
    const held = { files: 0, bytes: 0 };
    for await (const e of this.#kv.list<Held>({ prefix: ["anchor-file"] })) {
      if (e.value.held) (held.files++, held.bytes += e.value.size);
    }
    this.#held = held;
  }

  private constructor(
    kv: Deno.Kv,
    chunks: ChunkStore,
    o: { limits?: AnchorFileLimits; now: () => number; log: (line: string) => void },
  ) {
    this.#kv = kv;
    this.#chunks = chunks;
    this.#limits = o.limits ?? DEFAULT_ANCHOR_FILE_LIMITS;
    this.#now = o.now;
    this.#log = o.log;
  }

  async #usage(up: string): Promise<{ mine: number; all: number }> {
    let mine = 0;
    let all = 0;
    for await (const e of this.#kv.list<Held>({ prefix: ["anchor-file"] })) {
      all += e.value.size;
      if (e.value.up === up) mine += e.value.size;
    }
    return { mine, all };
  }

  /** Serves held sealed chunks, and takes offers, on a contact's session. */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    serveFiles(rpc, {
      chunks: this.#chunks,
      find: async (root) => {
        const h = (await this.#kv.get<Held>(["anchor-file", root])).value;
        return h?.held ? record(root, h) : null;
      },
      served: () => {},
    });
    rpc.handle("gfile.offer", (p) => {
      const running = this.#taking.get(p.root);
      if (running) return running;
      const run = this.#take(rpc, toHex(peer), p).finally(() => this.#taking.delete(p.root));
      this.#taking.set(p.root, run);
      return run;
    });
  }

  /** Drops the files taken longer ago than the expiry. */
  async #sweep(): Promise<void> {
    const before = this.#now() - this.#limits.ttlMs;
    let n = 0;
    for await (const e of this.#kv.list<Held>({ prefix: ["anchor-file"] })) {
      if (e.value.at >= before || this.#taking.has(e.key[1] as string)) continue;
      await this.#chunks.drop(e.key[1] as string);
      await this.#kv.delete(e.key);
      n++;
    }
    if (n > 0) {
      this.#log(`files: dropped ${n} expired group files`);
      await this.#count();
    }
  }

  async #take(
    rpc: RpcSession,
    up: string,
    p: { root: string; size: number; chunk: number },
  ): Promise<{ held: boolean; reason?: string }> {
    await this.#sweep();
    const key = ["anchor-file", p.root];
    const known = (await this.#kv.get<Held>(key)).value;
    if (known?.held) return { held: true };
    if (!known) {
      const { mine, all } = await this.#usage(up);
      const why = offerRefusal(p.size, mine, all, this.#limits);
      if (why) return { held: false, reason: why };
      try {
        await checkRoom(this.#chunks.dir, p.size, this.#limits.minFree ?? DEFAULT_MIN_FREE);
      } catch (err) {
        return { held: false, reason: (err as Error).message };
      }
      await this.#kv.set(key, { up, size: p.size, chunk: p.chunk, at: this.#now(), held: false });
    }
    const m: FileManifest = {
      v: 1,
      name: "file",
      size: p.size,
      type: "application/octet-stream",
      chunk: p.chunk,
      root: p.root,
    };
    const out = await fetchFile(m, this.#chunks, rpc, { progress: () => {}, badChunk: () => {} });
    if (out.kind !== "complete") return { held: false, reason: out.reason.slice(0, 300) };
    const h: Held = { up, size: p.size, chunk: p.chunk, at: this.#now(), held: true };
    await this.#kv.set(key, h);
    this.#held = { files: this.#held.files + 1, bytes: this.#held.bytes + p.size };
    this.#log(`files: holding ${p.size} sealed bytes of a group file`);
    return { held: true };
  }
}

function record(root: string, h: Held): FileRecord {
  return {
    hash: root,
    chat: "anchor",
    author: h.up,
    mine: false,
    seq: 0,
    ts: h.at,
    manifest: {
      v: 1,
      name: "file",
      size: h.size,
      type: "application/octet-stream",
      chunk: h.chunk,
      root,
    },
    state: "complete",
  };
}
