/**
 * What 1:1 files (file_service.ts) and group files (group_files.ts) do alike:
 * checking a file before sending it, its manifest, finding a record by the
 * id a person gives, a record as a view, and a transfer's event.
 */
import type { FileView, NodeEvent } from "../api/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import { encodeB64 } from "../protocol/mod.ts";
import type { ChunkStore } from "./chunk_store.ts";
import type { FileRecord, FileRecords } from "./file_records.ts";
import { chunkCount, type FileManifest, mediaTypeOf, sanitiseName } from "./manifest.ts";
import { makeThumbnail } from "./thumbnail.ts";

export type FileEvent = Extract<NodeEvent, { type: "file" }>;

/** What a record of an entry whose manifest cannot be read names: nothing to fetch. */
export const UNREADABLE: FileManifest = {
  v: 1,
  name: "file",
  size: 0,
  type: "application/octet-stream",
  chunk: 262144,
  root: "0".repeat(64),
};

/**
 * The file at `path`, checked: readable, a regular file, within `maxSize`.
 * @throws {RojError} not_found, bad_input
 */
export async function fileToSend(path: string, maxSize: number): Promise<Deno.FileInfo> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    throw new RojError("not_found", `cannot read ${JSON.stringify(path)}`, { cause: err });
  }
  if (!info.isFile) throw new RojError("bad_input", `${JSON.stringify(path)} is not a file`);
  if (info.size > maxSize) {
    throw new RojError(
      "bad_input",
      `the file is ${info.size} bytes, over the limit of ${maxSize} (--max-file-size)`,
    );
  }
  return info;
}

/** The manifest of a file read into the store from `path`, under `asName` or its own name. */
export async function manifestOf(
  imported: { readonly size: number; readonly chunk: number; readonly root: string },
  path: string,
  caption?: string,
  asName?: string,
): Promise<FileManifest> {
  const name = sanitiseName(asName ?? path);
  const thumb = await makeThumbnail(path, mediaTypeOf(name), imported.size);
  return {
    v: 1,
    name,
    size: imported.size,
    type: mediaTypeOf(name),
    chunk: imported.chunk,
    root: imported.root,
    ...(caption ? { caption } : {}),
    ...(thumb ? { thumb: encodeB64(thumb) } : {}),
  };
}

/** The one record of `chat` whose hash starts with `id`. @throws {RojError} bad_input, not_found */
export async function findFile(
  records: FileRecords,
  chat: { readonly id: string; readonly name: string },
  id: string,
): Promise<FileRecord> {
  if (!/^[0-9a-f]{6,64}$/.test(id)) {
    throw new RojError("bad_input", "a file id is hex, as `roj files` shows it");
  }
  const hits = (await records.all(chat.id)).filter((r) => r.hash.startsWith(id));
  if (hits.length === 0) throw new RojError("not_found", `no file ${id} in ${chat.name}`);
  if (hits.length > 1) {
    throw new RojError("bad_input", `${id} names more than one file; give more of it`);
  }
  return hits[0]!;
}

/** Tells followers of a file's transfer. */
export function emitFile(
  bus: EventBus,
  r: FileRecord,
  chatName: string,
  op: FileEvent["op"],
  extra: Partial<FileEvent> = {},
): void {
  const total = chunkCount(r.manifest.size, r.manifest.chunk);
  bus.emit({
    type: "file",
    op,
    chat: chatName,
    id: r.hash.slice(0, 12),
    name: r.manifest.name,
    size: r.manifest.size,
    side: r.mine ? "send" : "receive",
    done: total,
    total,
    ...extra,
  } as NodeEvent);
}

/**
 * A record as the person sees it: `held` the chunk counts of fetches
 * running (else the store is asked), `active` whether one runs for it.
 */
export async function fileView(
  chunks: ChunkStore,
  r: FileRecord,
  names: { readonly chat: string; readonly from: string },
  held: ReadonlyMap<string, number>,
  active: boolean,
): Promise<FileView> {
  const total = chunkCount(r.manifest.size, r.manifest.chunk);
  let done = total;
  if (r.state !== "complete") {
    done = held.get(r.hash) ?? 0;
    if (!held.has(r.hash)) {
      const list = await chunks.list(r.manifest.root);
      if (list) done = (await chunks.held(list)).filter(Boolean).length;
    }
  }
  return {
    id: r.hash.slice(0, 12),
    chat: names.chat,
    name: r.manifest.name,
    size: r.manifest.size,
    type: r.manifest.type,
    from: r.mine ? "me" : names.from,
    mine: r.mine,
    ts: r.ts,
    state: r.state,
    done,
    total,
    ...(r.manifest.caption !== undefined ? { caption: r.manifest.caption } : {}),
    ...(r.manifest.thumb !== undefined ? { thumb: true } : {}),
    ...(r.reason !== undefined && r.state !== "complete" ? { reason: r.reason } : {}),
    ...(active ? { active: true } : {}),
  };
}

/** The sender's thumbnail of a file, base64. @throws {RojError} not_found when it has none */
export function thumbOf(r: FileRecord): { b: string } {
  if (!r.manifest.thumb) throw new RojError("not_found", `${r.manifest.name} has no thumbnail`);
  return { b: r.manifest.thumb };
}
