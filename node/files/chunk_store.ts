/**
 * Chunks on disk, by content: `<data>/files/` (0700) holds
 *
 *   chunks/<2 hex>/<64 hex>   one verified chunk, named by its SHA-256 (0600)
 *   lists/<64 hex>            a file's chunk hashes, named by its root (0600)
 *
 * Nothing goes in under its final name before it is checked: a chunk is
 * written to a temporary name, its hash compared, and renamed; a list is
 * kept only when it matches its root. So a chunk file that exists is a
 * verified one, a crash leaves at most a temporary file (removed at open),
 * and "complete" can be read off the disk: every chunk of the list present.
 * Files are never held in memory whole: one chunk at a time.
 */
import { createHash } from "node:crypto";
import { RojError } from "../errors.ts";
import { toHex } from "../log/mod.ts";
import { answerBuffer } from "../protocol/mod.ts";
import { CHUNK_BYTES, chunkCount, fileRoot } from "./manifest.ts";

/** What importing a file found: its size and root, and the list it stored. */
export interface Imported {
  readonly size: number;
  readonly chunk: number;
  readonly root: string;
}

/** How chunks are sealed as they are imported (a group file's: group_file_crypto.ts). */
export interface ChunkSeal {
  /** Bytes a sealed chunk has more than its plain one. */
  readonly overhead: number;
  apply(index: number, plain: Uint8Array): Uint8Array;
}

/**
 * SHA-256, native and synchronous (node:crypto): WebCrypto's digest is as
 * fast but copies its input and answers through a promise, garbage and a
 * turn of the event loop per 256 KiB chunk.
 */
export function sha256Of(bytes: Uint8Array): Uint8Array {
  const d = createHash("sha256").update(bytes).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
}

export interface ChunkStoreOptions {
  /**
   * Told the bytes of each chunk kept or read (a file sent, fetched or
   * imported). `roj run` has V8 free their garbage every few MiB with it
   * (cli/heap_trim.ts scavengeEvery): left to itself, V8 lets ~100 MiB of
   * dead chunk buffers pile up. @default nothing
   */
  readonly moved?: (bytes: number) => void;
}

/** Chunks whose check read() may skip, at most (their names and stats: about 2 MB). */
const VERIFIED_MAX = 16_384;

export class ChunkStore {
  readonly dir: string;
  #temp = 0;
  /**
   * Chunks this process wrote or checked, with the size and mtime their file
   * had then. read() checks a chunk's hash again only when it is not here or
   * its file changed since: a torn copy comes of a crash of the machine, and
   * so of a process that starts with this empty. (Serving a file read every
   * chunk's 256 KiB through SHA-256 twice, once as it was kept and once as it
   * was sent.) Oldest first, for dropping at VERIFIED_MAX.
   */
  readonly #verified = new Map<string, { size: number; mtime: number }>();
  /** Fan-out folders known to exist (at most 256). */
  readonly #fans = new Set<string>();

  readonly #moved: (bytes: number) => void;

  private constructor(dir: string, options: ChunkStoreOptions) {
    this.dir = dir;
    this.#moved = options.moved ?? (() => {});
  }

  /** Opens (creating, 0700) the store under `dataDir`, dropping temporary files a crash left. */
  static async open(dataDir: string, options: ChunkStoreOptions = {}): Promise<ChunkStore> {
    const dir = `${dataDir}/files`;
    for (const d of [dir, `${dir}/chunks`, `${dir}/lists`]) {
      await Deno.mkdir(d, { recursive: true, mode: 0o700 });
      await Deno.chmod(d, 0o700).catch(() => {});
    }
    const store = new ChunkStore(dir, options);
    await store.#sweep();
    return store;
  }

  async #sweep(): Promise<void> {
    const drop = async (d: string) => {
      for await (const e of Deno.readDir(d)) {
        if (e.isFile && e.name.includes(".tmp")) {
          await Deno.remove(`${d}/${e.name}`).catch(() => {});
        }
      }
    };
    await drop(`${this.dir}/lists`);
    for await (const e of Deno.readDir(`${this.dir}/chunks`)) {
      if (e.isDirectory) await drop(`${this.dir}/chunks/${e.name}`);
    }
  }

  #chunkPath(hex: string): string {
    return `${this.dir}/chunks/${hex.slice(0, 2)}/${hex}`;
  }

  /** Writes `bytes` under `path` through a temporary name: never a partial file under `path`. */
  async #writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
    const tmp = `${path}.tmp${Deno.pid}-${this.#temp++}`;
    const f = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
    try {
      let at = 0;
      while (at < bytes.length) at += await f.write(bytes.subarray(at));
    } catch (err) {
      // A full disk (ENOSPC) or any failed write: no partial file stays, not even a temporary one.
      f.close();
      await Deno.remove(tmp).catch(() => {});
      throw err;
    }
    f.close();
    await Deno.rename(tmp, path);
  }

  /** Whether the chunk with this hash is held (and so was verified). */
  async has(hash: Uint8Array): Promise<boolean> {
    try {
      return (await Deno.stat(this.#chunkPath(toHex(hash)))).isFile;
    } catch {
      return false;
    }
  }

  /**
   * Keeps a chunk if its bytes hash to `hash`.
   * @returns false (nothing written) when they do not.
   */
  async put(hash: Uint8Array, bytes: Uint8Array): Promise<boolean> {
    if (toHex(sha256Of(bytes)) !== toHex(hash)) return false;
    await this.#keep(toHex(hash), bytes);
    return true;
  }

  /** Remembers the chunk file `hex` as checked, with its stats now. */
  #remember(hex: string, info: Deno.FileInfo): void {
    this.#verified.delete(hex);
    if (this.#verified.size >= VERIFIED_MAX) {
      this.#verified.delete(this.#verified.keys().next().value!);
    }
    this.#verified.set(hex, { size: info.size, mtime: info.mtime?.getTime() ?? NaN });
  }

  /** Writes a chunk whose bytes were checked to hash to `hex`, unless held. */
  async #keep(hex: string, bytes: Uint8Array): Promise<void> {
    const path = this.#chunkPath(hex);
    try {
      if ((await Deno.stat(path)).isFile) return;
    } catch { /* not held */ }
    const fan = hex.slice(0, 2);
    if (!this.#fans.has(fan)) {
      await Deno.mkdir(`${this.dir}/chunks/${fan}`, { recursive: true, mode: 0o700 });
      this.#fans.add(fan);
    }
    await this.#writeAtomic(path, bytes);
    this.#remember(hex, await Deno.stat(path));
    this.#moved(bytes.length);
  }

  /**
   * A held chunk's bytes, checked again: chunks are not fsynced one by one
   * (a crash of the process loses nothing; one of the machine may leave a
   * torn file), so a chunk that no longer matches its name is dropped here.
   * One this process wrote or checked, and whose file has not changed since,
   * is not hashed again (see #verified). Read into an answerBuffer: served
   * as a files.get answer, the frame is built around it without a copy.
   * @throws {RojError} not_found
   */
  async read(hash: Uint8Array): Promise<Uint8Array> {
    const hex = toHex(hash);
    const path = this.#chunkPath(hex);
    let bytes: Uint8Array;
    let info: Deno.FileInfo;
    try {
      using f = await Deno.open(path, { read: true });
      info = await f.stat();
      bytes = answerBuffer(info.size);
      let at = 0;
      while (at < bytes.length) {
        const n = await f.read(bytes.subarray(at));
        if (n === null) break;
        at += n;
      }
      bytes = bytes.subarray(0, at);
    } catch (err) {
      throw new RojError("not_found", "chunk not held", { cause: err });
    }
    this.#moved(bytes.length);
    const known = this.#verified.get(hex);
    if (known && known.size === bytes.length && known.mtime === info.mtime?.getTime()) {
      return bytes;
    }
    if (toHex(sha256Of(bytes)) !== hex) {
      this.#verified.delete(hex);
      await Deno.remove(path).catch(() => {});
      throw new RojError("not_found", "chunk not held (the copy here was damaged)");
    }
    this.#remember(hex, info);
    return bytes;
  }

  /** Part of a held chunk (for ranged reads): `length` bytes from `offset`. */
  async readPart(hash: Uint8Array, offset: number, length: number): Promise<Uint8Array> {
    const f = await Deno.open(this.#chunkPath(toHex(hash)), { read: true });
    try {
      await f.seek(offset, Deno.SeekMode.Start);
      const out = new Uint8Array(length);
      let at = 0;
      while (at < length) {
        const n = await f.read(out.subarray(at));
        if (n === null) break;
        at += n;
      }
      return out.subarray(0, at);
    } finally {
      f.close();
    }
  }

  /** Keeps a file's hash list (the caller checked it against the root). */
  async putList(root: string, hashes: Uint8Array): Promise<void> {
    await this.#writeAtomic(`${this.dir}/lists/${root}`, hashes);
  }

  /** A file's hash list, or null when not held. */
  async list(root: string): Promise<Uint8Array | null> {
    try {
      return await Deno.readFile(`${this.dir}/lists/${root}`);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
  }

  /**
   * Drops a file's list and its chunks. Only for a store whose files share
   * no chunk (an anchor's sealed group files: each file has its own key).
   */
  async drop(root: string): Promise<void> {
    const list = await this.list(root);
    for (let i = 0; list && i * 32 < list.length; i++) {
      const hex = toHex(list.subarray(i * 32, i * 32 + 32));
      this.#verified.delete(hex);
      await Deno.remove(this.#chunkPath(hex)).catch(() => {});
    }
    await Deno.remove(`${this.dir}/lists/${root}`).catch(() => {});
  }

  /** Which chunks of a list are held, by index. */
  async held(hashes: Uint8Array): Promise<boolean[]> {
    const out: boolean[] = [];
    for (let i = 0; i * 32 < hashes.length; i++) {
      out.push(await this.has(hashes.subarray(i * 32, i * 32 + 32)));
    }
    return out;
  }

  /**
   * Reads the file at `path` one chunk at a time into the store, and keeps
   * its list. `progress` is told the bytes read so far. With `seal`, each
   * chunk is kept as `seal.apply` makes it (`seal.overhead` bytes longer),
   * and the root names those: a group file's sealed chunks.
   * @throws {RojError} bad_input when it is not a regular file or changes size while read
   */
  async importFile(
    path: string,
    progress: (bytes: number) => void = () => {},
    chunk = CHUNK_BYTES,
    seal?: ChunkSeal,
  ): Promise<Imported> {
    const f = await Deno.open(path, { read: true });
    try {
      const info = await f.stat();
      if (!info.isFile) throw new RojError("bad_input", "not a regular file");
      const size = info.size;
      const count = chunkCount(size, chunk);
      const hashes = new Uint8Array(32 * count);
      const buf = new Uint8Array(chunk);
      let done = 0;
      for (let i = 0; i < count; i++) {
        const want = Math.min(chunk, size - done);
        let at = 0;
        while (at < want) {
          const n = await f.read(buf.subarray(at, want));
          if (n === null) throw new RojError("bad_input", "the file got shorter while read");
          at += n;
        }
        const bytes = seal ? seal.apply(i, buf.subarray(0, want)) : buf.subarray(0, want);
        const hash = sha256Of(bytes);
        await this.#keep(toHex(hash), bytes);
        hashes.set(hash, i * 32);
        done += want;
        progress(done);
      }
      const extra = seal?.overhead ?? 0;
      const root = toHex(fileRoot(size + extra * count, chunk + extra, hashes));
      await this.putList(root, hashes);
      return { size, chunk, root };
    } finally {
      f.close();
    }
  }
}
