/**
 * A file in a group (issue 15, item 4): its entry (type "gfile") is a group message
 * (groups/group_crypto.ts: encrypted under the epoch the writer uses) whose
 * text is the manifest plus `k`, a random 32-byte key of this file alone:
 *
 *   {"v":1,"name":…,"size":<plain bytes>,"type":…,"chunk":262144,
 *    "root":"<root over the sealed chunks>","k":"<base64 key>"}
 *
 * Chunk i of the content is sealed on its own:
 *
 *   sealed_i = XChaCha20-Poly1305(k, nonce_i, aad_i)(plain chunk i)
 *   nonce_i  = 16 zero bytes || uint64 i (big-endian)   (k is used for one file only)
 *   aad_i    = "roj-group-file-chunk-v1\0" || chat id || "\0" || uint64 i
 *
 * The sealed chunks are what moves and what holders keep: a file of `size`
 * bytes in chunks of `chunk` is, on the wire and in every store, a file of
 * size + 16·n bytes in chunks of chunk + 16 (n chunks), named by the root
 * over the sealed chunks' hashes. So files.list and files.get, the store and
 * every check on arrival are the 1:1 ones, and a holder (another member, an
 * anchor) sees ciphertext only; a member removed before the entry was
 * written holds no key to its epoch, so never learns `k` nor the root.
 */
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { base64 } from "@scure/base";
import { z } from "zod";
import { RojError } from "../errors.ts";
import { GROUP_FILE_CHUNK_LABEL, openXChaCha20Poly1305 } from "../identity/mod.ts";
import type { ChunkStore } from "./chunk_store.ts";
import {
  CHUNK_BYTES,
  chunkCount,
  type FileManifest,
  MAX_CHUNK_BYTES,
  parseManifest,
} from "./manifest.ts";

/** What sealing adds to each chunk (the Poly1305 tag). */
export const SEAL_OVERHEAD = 16;

/** A group file's manifest: the 1:1 fields (plain size and chunk) and the file's key. */
export interface GroupFileManifest extends FileManifest {
  /** The file's key, 32 bytes. */
  readonly k: Uint8Array;
}

const encoder = new TextEncoder();

function aad(chat: string, index: number): Uint8Array {
  const head = encoder.encode(`${GROUP_FILE_CHUNK_LABEL}${chat}\0`);
  const out = new Uint8Array(head.length + 8);
  out.set(head);
  new DataView(out.buffer).setBigUint64(head.length, BigInt(index));
  return out;
}

function nonce(index: number): Uint8Array {
  const n = new Uint8Array(24);
  new DataView(n.buffer).setBigUint64(16, BigInt(index));
  return n;
}

/** Chunk `index` of a group file, sealed. */
export function sealChunk(k: Uint8Array, chat: string, index: number, plain: Uint8Array) {
  return xchacha20poly1305(k, nonce(index), aad(chat, index)).encrypt(plain);
}

/** A sealed chunk opened. @throws {RojError} internal when it does not open (a held chunk was verified). */
export function openChunk(
  k: Uint8Array,
  chat: string,
  index: number,
  sealed: Uint8Array,
): Uint8Array {
  try {
    return openXChaCha20Poly1305(k, nonce(index), aad(chat, index), sealed);
  } catch (err) {
    throw new RojError("internal", `chunk ${index} does not open with the file's key`, {
      cause: err,
    });
  }
}

/** The manifest of what moves: the sealed chunks (see the top of this file). */
export function sealedManifest(m: FileManifest): FileManifest {
  const n = chunkCount(m.size, m.chunk);
  return { ...m, size: m.size + SEAL_OVERHEAD * n, chunk: m.chunk + SEAL_OVERHEAD };
}

/** The text a group file entry encrypts. */
export function groupManifestText(m: GroupFileManifest): string {
  return JSON.stringify({ ...m, k: base64.encode(m.k) });
}

const KeyField = z.object({ k: z.string().length(44).regex(/^[A-Za-z0-9+/]{43}=$/) });

/**
 * A group file's manifest from the decrypted text of its entry.
 * @throws {RojError} bad_input naming what is wrong
 */
export function parseGroupManifest(text: string): GroupFileManifest {
  const m = parseManifest(text);
  const k = KeyField.safeParse(JSON.parse(text));
  if (!k.success) throw new RojError("bad_input", "group file entry: k: not a 32-byte key");
  if (m.chunk + SEAL_OVERHEAD > MAX_CHUNK_BYTES) {
    throw new RojError("bad_input", "group file entry: chunk: too large once sealed");
  }
  return { ...m, k: base64.decode(k.data.k) };
}

/**
 * Reads the file at `path` a chunk at a time, seals each chunk with `k` into
 * the store, and keeps the sealed chunks' list; `progress` is told the plain
 * bytes read. Resolves with the plain size and the sealed root.
 * @throws {RojError} bad_input when it is not a regular file or changes size while read
 */
export function importSealed(
  store: ChunkStore,
  path: string,
  k: Uint8Array,
  chat: string,
  progress: (bytes: number) => void = () => {},
): Promise<{ size: number; chunk: number; root: string }> {
  return store.importFile(path, progress, CHUNK_BYTES, {
    overhead: SEAL_OVERHEAD,
    apply: (i, plain) => sealChunk(k, chat, i, plain),
  });
}
