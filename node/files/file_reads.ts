/**
 * Reading complete files out of the chunk store: a byte range (the admin's
 * downloads), the SFTP view's files (a range at a time), and saving a copy
 * into a folder. Nothing here holds a file whole: a chunk at a time.
 */
import { RojError } from "../errors.ts";
import type { SftpFile } from "../transport/mod.ts";
import type { ChunkStore } from "./chunk_store.ts";
import type { FileRecord } from "./file_records.ts";
import { chunkCount, chunkLength } from "./manifest.ts";

/** The refusal to read a file that is not complete here. */
export function notComplete(r: FileRecord): RojError {
  return new RojError(
    "refused",
    `${r.manifest.name} is not complete` + (r.reason ? `: ${r.reason}` : ""),
  );
}

/** The hash list of a complete file. @throws {RojError} refused while incomplete */
async function listOf(chunks: ChunkStore, r: FileRecord): Promise<Uint8Array> {
  const list = r.state === "complete" ? await chunks.list(r.manifest.root) : null;
  if (list) return list;
  throw notComplete(r);
}

/**
 * Bytes `offset`..`offset + length` of a file of `size` bytes in chunks of
 * `chunk` (fewer at its end), each piece read by `part`: `n` bytes of chunk
 * `i` from `within`.
 */
export async function assembleRange(
  size: number,
  chunk: number,
  offset: number,
  length: number,
  part: (i: number, within: number, n: number) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const end = Math.min(size, offset + length);
  const out = new Uint8Array(Math.max(0, end - offset));
  for (let at = offset; at < end;) {
    const i = Math.floor(at / chunk);
    const within = at - i * chunk;
    const n = Math.min(end - at, chunkLength(size, chunk, i) - within);
    const bytes = await part(i, within, n);
    if (bytes.length !== n) throw new RojError("internal", `chunk ${i} is short in the store`);
    out.set(bytes, at - offset);
    at += n;
  }
  return out;
}

/** Bytes `offset`..`offset + length` of a file (fewer at its end). */
function rangeOf(
  chunks: ChunkStore,
  r: FileRecord,
  list: Uint8Array,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  return assembleRange(
    r.manifest.size,
    r.manifest.chunk,
    offset,
    length,
    (i, within, n) => chunks.readPart(list.subarray(i * 32, i * 32 + 32), within, n),
  );
}

/** Up to `length` bytes of a complete file from `offset`. @throws {RojError} refused */
export async function readRange(
  chunks: ChunkStore,
  r: FileRecord,
  offset: number,
  length: number,
): Promise<{ bytes: Uint8Array; size: number }> {
  const list = await listOf(chunks, r);
  return { bytes: await rangeOf(chunks, r, list, offset, length), size: r.manifest.size };
}

/** The complete files among `records`, named uniquely ("name (2).ext"), for the SFTP view. */
export async function sftpFilesOf(
  chunks: ChunkStore,
  records: readonly FileRecord[],
  chatName: string,
): Promise<SftpFile[]> {
  const taken = new Set<string>();
  const out: SftpFile[] = [];
  for (const r of records) {
    if (r.state !== "complete") continue;
    const list = await chunks.list(r.manifest.root);
    if (!list) continue;
    out.push({
      chat: chatName,
      name: uniqueName(r.manifest.name, taken),
      size: r.manifest.size,
      read: (offset, length) => rangeOf(chunks, r, list, offset, length),
    });
  }
  return out;
}

/** Writes a complete file into `outDir` (never over an existing file), a chunk at a time. */
export async function saveFile(
  chunks: ChunkStore,
  r: FileRecord,
  outDir: string,
): Promise<{ path: string; size: number }> {
  const list = await listOf(chunks, r);
  const held = await chunks.held(list);
  const total = chunkCount(r.manifest.size, r.manifest.chunk);
  if (held.length !== total || !held.every(Boolean)) {
    const n = held.filter(Boolean).length;
    throw new RojError(
      "refused",
      `${r.manifest.name} is not complete (${total ? Math.floor((100 * n) / total) : 0}%)`,
    );
  }
  const { file, path } = await createUnique(outDir, r.manifest.name);
  try {
    for (let i = 0; i < total; i++) {
      const bytes = await chunks.read(list.subarray(i * 32, i * 32 + 32));
      if (bytes.length !== chunkLength(r.manifest.size, r.manifest.chunk, i)) {
        throw new RojError("internal", `chunk ${i} in the store has the wrong length`);
      }
      let at = 0;
      while (at < bytes.length) at += await file.write(bytes.subarray(at));
    }
  } finally {
    file.close();
  }
  return { path, size: r.manifest.size };
}

function split(name: string): [string, string] {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
}

/** `name`, or "stem (n).ext" for the first n from 2 not in `taken`; added to `taken`. */
export function uniqueName(name: string, taken: Set<string>): string {
  const [stem, ext] = split(name);
  let out = name;
  for (let n = 2; taken.has(out); n++) out = `${stem} (${n})${ext}`;
  taken.add(out);
  return out;
}

/** Opens `<dir>/<name>` new, or "<stem> (n)<ext>" when taken. */
export async function createUnique(
  dir: string,
  name: string,
): Promise<{ file: Deno.FsFile; path: string }> {
  const [stem, ext] = split(name);
  for (let n = 0; n < 1000; n++) {
    const path = `${dir}/${n === 0 ? name : `${stem} (${n})${ext}`}`;
    try {
      return { file: await Deno.open(path, { write: true, createNew: true, mode: 0o600 }), path };
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) {
        throw new RojError("bad_input", `cannot write into ${JSON.stringify(dir)}`, { cause: err });
      }
    }
  }
  throw new RojError("exists", `${name} and 999 numbered copies exist in ${dir}`);
}
