/**
 * Reading complete group files out of the chunk store in plain: each sealed
 * chunk opened with the file's key (group_file_crypto.ts), a chunk at a time.
 */
import { base64 } from "@scure/base";
import { RojError } from "../errors.ts";
import type { ChunkStore } from "./chunk_store.ts";
import type { SftpFile } from "../transport/mod.ts";
import { assembleRange, createUnique, notComplete, uniqueName } from "./file_reads.ts";
import type { GroupFileRecord } from "./group_files.ts";
import { openChunk } from "./group_file_crypto.ts";
import { chunkCount, chunkLength } from "./manifest.ts";

/** The sealed list of a complete group file, and its key. @throws {RojError} refused while incomplete */
async function opened(chunks: ChunkStore, r: GroupFileRecord) {
  const list = r.state === "complete" && r.k ? await chunks.list(r.manifest.root) : null;
  if (!list) throw notComplete(r);
  const k = base64.decode(r.k);
  const plain = async (i: number) => {
    const p = openChunk(k, r.chat, i, await chunks.read(list.subarray(i * 32, i * 32 + 32)));
    if (p.length !== chunkLength(r.manifest.size, r.manifest.chunk, i)) {
      throw new RojError("internal", `chunk ${i} in the store has the wrong length`);
    }
    return p;
  };
  return { total: chunkCount(r.manifest.size, r.manifest.chunk), plain };
}

/** Up to `length` plain bytes from `offset` (fewer at the end). */
export async function readPlainRange(
  chunks: ChunkStore,
  r: GroupFileRecord,
  offset: number,
  length: number,
): Promise<{ bytes: Uint8Array; size: number }> {
  const { plain } = await opened(chunks, r);
  const { size, chunk } = r.manifest;
  const bytes = await assembleRange(
    size,
    chunk,
    offset,
    length,
    async (i, within, n) => (await plain(i)).subarray(within, within + n),
  );
  return { bytes, size };
}

/** Writes a complete group file, opened, into `outDir` (never over an existing file). */
export async function savePlain(
  chunks: ChunkStore,
  r: GroupFileRecord,
  outDir: string,
): Promise<{ path: string; size: number }> {
  const { total, plain } = await opened(chunks, r);
  const { file, path } = await createUnique(outDir, r.manifest.name);
  try {
    for (let i = 0; i < total; i++) {
      const bytes = await plain(i);
      let at = 0;
      while (at < bytes.length) at += await file.write(bytes.subarray(at));
    }
  } catch (err) {
    file.close();
    await Deno.remove(path).catch(() => {});
    throw err;
  }
  file.close();
  return { path, size: r.manifest.size };
}

/** The complete files among a group's `records`, named uniquely, for a member's SFTP view. */
export function groupSftpFiles(
  chunks: ChunkStore,
  records: readonly GroupFileRecord[],
  chatName: string,
): SftpFile[] {
  const taken = new Set<string>();
  return records.filter((r) => r.state === "complete" && r.k).map((r) => ({
    chat: chatName,
    name: uniqueName(r.manifest.name, taken),
    size: r.manifest.size,
    read: async (offset: number, length: number) =>
      (await readPlainRange(chunks, r, offset, length)).bytes,
  }));
}
