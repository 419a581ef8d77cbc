/**
 * A file's manifest: the body of its signed log entry (type "file"), and the
 * root that names its content.
 *
 * The body is one JSON object:
 *
 *   {"v":1,"name":"photo.jpg","size":1234567,"type":"image/jpeg",
 *    "chunk":262144,"root":"<64 hex>","caption":"the view"}
 *
 * The content is cut into chunks of `chunk` bytes (the last one shorter).
 * Chunk i's hash is SHA-256 of its bytes; the root is
 *
 *   SHA-256( "roj-file-v1\0" || uint64 size || uint32 chunk || h0 || h1 || … )
 *
 * so the list of chunk hashes (fetched once, 32 bytes a chunk) is checked
 * against the signed root before any chunk is asked for, and then every chunk
 * is checked against its own hash on arrival. The size and chunk size are
 * inside the root: a manifest that lies about its size names no list that
 * verifies (and every chunk must have exactly the length the size implies).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { z } from "zod";
import { RojError } from "../errors.ts";
import { FILE_ROOT_LABEL } from "../identity/mod.ts";
import { toHex } from "../log/mod.ts";
import { THUMB_BYTES } from "./thumbnail.ts";

/** The entry type of a file. */
export const FILE_ENTRY_TYPE = "file";
/** The chunk size this node writes. */
export const CHUNK_BYTES = 256 * 1024;
/** Chunk sizes a manifest may name: a chunk, in base64, must fit one protocol frame. */
export const MIN_CHUNK_BYTES = 16 * 1024;
export const MAX_CHUNK_BYTES = 512 * 1024;
/** Longest file name kept, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 128;
/** Longest caption, in characters. */
export const MAX_CAPTION = 2000;
/** Largest size a manifest may state (the node's own limit is lower: ResolvedOptions). */
export const MAX_MANIFEST_SIZE = 2 ** 48;

const encoder = new TextEncoder();
const rootLabel = encoder.encode(FILE_ROOT_LABEL);

export interface FileManifest {
  readonly v: 1;
  /** Sanitised (sanitiseName): no path separator, no control character, bounded. */
  readonly name: string;
  readonly size: number;
  /** A media type such as "image/jpeg" (lower case), "application/octet-stream" when unknown. */
  readonly type: string;
  readonly chunk: number;
  /** The content's root, 64 lower-case hex characters. */
  readonly root: string;
  readonly caption?: string;
  /** The sender's JPEG thumbnail (thumbnail.ts), base64; the receiver never decodes it. */
  readonly thumb?: string;
}

const ManifestSchema = z.object({
  v: z.literal(1),
  name: z.string().min(1).max(4 * MAX_NAME_BYTES),
  size: z.number().int().min(0).max(MAX_MANIFEST_SIZE),
  type: z.string().max(100).regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/),
  chunk: z.number().int().min(MIN_CHUNK_BYTES).max(MAX_CHUNK_BYTES),
  root: z.string().regex(/^[0-9a-f]{64}$/),
  caption: z.string().max(MAX_CAPTION).optional(),
  thumb: z.string().max(Math.ceil(THUMB_BYTES / 3) * 4).regex(/^[A-Za-z0-9+/]+={0,2}$/).optional(),
});

/** How many chunks a file of `size` bytes has (an empty file has none). */
export function chunkCount(size: number, chunk: number): number {
  return Math.ceil(size / chunk);
}

/** The exact length of chunk `index` of a file of `size` bytes. */
export function chunkLength(size: number, chunk: number, index: number): number {
  return Math.min(chunk, size - index * chunk);
}

/** The root over a file's chunk hashes (see the top of this file). */
export function fileRoot(size: number, chunk: number, hashes: Uint8Array): Uint8Array {
  const head = new Uint8Array(12);
  const view = new DataView(head.buffer);
  view.setBigUint64(0, BigInt(size));
  view.setUint32(8, chunk);
  return sha256.create().update(rootLabel).update(head).update(hashes).digest();
}

/** Whether a hash list (32 bytes per chunk) is the one the manifest's root names. */
export function listMatches(m: FileManifest, hashes: Uint8Array): boolean {
  return hashes.length === 32 * chunkCount(m.size, m.chunk) &&
    toHex(fileRoot(m.size, m.chunk, hashes)) === m.root;
}

/**
 * A name safe to show and to save as: the last path component only, control
 * and bidirectional-override characters removed, no leading dots, at most
 * MAX_NAME_BYTES of UTF-8 (the extension kept where it can be); "file" when
 * nothing is left.
 */
export function sanitiseName(raw: string): string {
  let name = raw.split(/[/\\]/).pop() ?? "";
  // deno-lint-ignore no-control-regex
  name = name.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "")
    .trim().replace(/^\.+/, "").trim();
  if (encoder.encode(name).length > MAX_NAME_BYTES) {
    const dot = name.lastIndexOf(".");
    const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : "";
    let stem = ext ? name.slice(0, dot) : name;
    while (encoder.encode(stem + ext).length > MAX_NAME_BYTES) {
      stem = [...stem].slice(0, -1).join("");
    }
    name = stem + ext;
  }
  return name === "" ? "file" : name;
}

/** A media type from a file name's extension (the receiver never sniffs content). */
export function mediaTypeOf(name: string): string {
  const ext = name.toLowerCase().split(".").pop() ?? "";
  return MEDIA_TYPES[ext] ?? "application/octet-stream";
}

const MEDIA_TYPES: Readonly<Record<string, string>> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  pdf: "application/pdf",
  txt: "text/plain",
  md: "text/markdown",
  zip: "application/zip",
  mp4: "video/mp4",
  mp3: "audio/mpeg",
};

/** The entry body for a manifest. */
export function manifestBody(m: FileManifest): string {
  return JSON.stringify(m);
}

/**
 * A peer's manifest from an entry body, its name sanitised again (a peer's
 * node may not have). @throws {RojError} bad_input naming what is wrong
 */
export function parseManifest(body: string): FileManifest {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new RojError("bad_input", "file entry is not JSON", { cause: err });
  }
  const parsed = ManifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RojError(
      "bad_input",
      `file entry: ${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`,
    );
  }
  const d = parsed.data;
  return {
    v: 1,
    name: sanitiseName(d.name),
    size: d.size,
    type: d.type,
    chunk: d.chunk,
    root: d.root,
    ...(d.caption !== undefined ? { caption: d.caption } : {}),
    ...(d.thumb !== undefined ? { thumb: d.thumb } : {}),
  };
}

/** A file entry as a message line: "file: photo.jpg (1.2 MB): the view". */
export function fileSentence(body: string): string {
  let m: FileManifest;
  try {
    m = parseManifest(body);
  } catch {
    return "file (its description is malformed)";
  }
  let v = m.size;
  let unit = 0;
  while (v >= 1000 && unit < 4) (v /= 1000, unit++);
  const size = unit === 0
    ? `${m.size} B`
    : `${v.toFixed(v < 10 ? 1 : 0)} ${["", "kB", "MB", "GB", "TB"][unit]}`;
  return `file: ${m.name} (${size})${m.caption ? `: ${m.caption}` : ""}`;
}
