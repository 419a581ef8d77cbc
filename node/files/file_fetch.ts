/**
 * Fetching one file from one holder over a session: its chunk list first
 * (checked against the signed root), then the missing chunks, a window at a
 * time (transfer_plan.ts decides which), each checked before it is kept.
 * What was kept stays kept: a later fetch starts from the chunks on disk.
 */
import { isRojError } from "../errors.ts";
import { decodeB64, MAX_LIST_HASHES, type ParamsOf, type ResultOf } from "../protocol/mod.ts";
import type { ChunkStore } from "./chunk_store.ts";
import { chunkCount, chunkLength, type FileManifest, listMatches } from "./manifest.ts";
import {
  answered,
  asked,
  heldCount,
  isComplete,
  nextRequests,
  startTransfer,
  type TransferState,
} from "./transfer_plan.ts";

/** How long one chunk may take to come. */
export const CHUNK_TIMEOUT_MS = 30_000;

/** The requests a fetch makes of the holder (an RpcSession). */
export interface Holder {
  request(m: "files.list", p: ParamsOf<"files.list">, ms?: number): Promise<ResultOf<"files.list">>;
  request(m: "files.get", p: ParamsOf<"files.get">, ms?: number): Promise<ResultOf<"files.get">>;
}

export interface FetchProgress {
  /** Chunks held, of `total`. */
  readonly done: number;
  readonly total: number;
  /** Chunk bytes fetched by this fetch so far. */
  readonly fetched: number;
}

export type FetchOutcome =
  | { readonly kind: "complete"; readonly fetched: number }
  /** The holder cannot give it (its list does not match, a chunk keeps failing): not worth asking it again. */
  | { readonly kind: "failed"; readonly reason: string; readonly fetched: number }
  /** The session went, or an answer did not come: ask again later. */
  | { readonly kind: "interrupted"; readonly reason: string; readonly fetched: number };

export interface FetchHooks {
  progress(p: FetchProgress): void;
  /** A chunk came that failed its check (refused, asked for again). */
  badChunk(index: number): void;
  /** Whether the person cancelled it: nothing more is asked for. */
  cancelled?(): boolean;
}

/** The file's chunk list, from the store or the holder; null with a reason when it does not match. */
async function chunkList(
  m: FileManifest,
  store: ChunkStore,
  holder: Holder,
): Promise<Uint8Array | string> {
  const held = await store.list(m.root);
  if (held && listMatches(m, held)) return held;
  const count = chunkCount(m.size, m.chunk);
  const hashes = new Uint8Array(32 * count);
  for (let from = 0; from < count; from += MAX_LIST_HASHES) {
    const n = Math.min(MAX_LIST_HASHES, count - from);
    const r = await holder.request("files.list", { root: m.root, from, count: n });
    const part = decodeB64(r.hashes);
    if (part.length !== 32 * n) return "the chunk list has the wrong length for the stated size";
    hashes.set(part, from * 32);
  }
  if (!listMatches(m, hashes)) {
    return "the chunk list does not match the signed root (a size or content that lies)";
  }
  await store.putList(m.root, hashes);
  return hashes;
}

/** Fetches what is missing of `m` from `holder`. Never throws for the holder's faults. */
export async function fetchFile(
  m: FileManifest,
  store: ChunkStore,
  holder: Holder,
  hooks: FetchHooks,
  window?: number,
): Promise<FetchOutcome> {
  let fetched = 0;
  let list: Uint8Array | string;
  try {
    list = await chunkList(m, store, holder);
  } catch (err) {
    return stopped(err, 0);
  }
  if (typeof list === "string") return { kind: "failed", reason: list, fetched };
  const hashes = list;
  let s: TransferState = startTransfer(await store.held(hashes));
  const total = s.held.length;
  hooks.progress({ done: heldCount(s), total, fetched });
  let stop: FetchOutcome | null = null;
  const one = async (index: number): Promise<void> => {
    let ok = false;
    let bytes: Uint8Array | null = null;
    try {
      const r = await holder.request("files.get", { root: m.root, index }, CHUNK_TIMEOUT_MS);
      bytes = r.b;
      ok = bytes.length === chunkLength(m.size, m.chunk, index) &&
        await store.put(hashes.subarray(index * 32, index * 32 + 32), bytes);
    } catch (err) {
      if (!isRojError(err, "bad_input")) {
        stop ??= stopped(err, fetched);
        return;
      }
    }
    if (bytes) fetched += bytes.length;
    const out = answered(s, index, ok);
    s = out.state;
    if (!ok) hooks.badChunk(index);
    if (out.kind === "give-up") {
      stop ??= {
        kind: "failed",
        reason: `chunk ${index} failed its check ${s.tries.get(index)} times`,
        fetched,
      };
    }
    if (ok) hooks.progress({ done: heldCount(s), total, fetched });
  };
  const running = new Set<Promise<void>>();
  while (!stop && !isComplete(s)) {
    if (hooks.cancelled?.()) {
      stop = { kind: "interrupted", reason: "cancelled", fetched };
      break;
    }
    const next = nextRequests(s, window);
    s = asked(s, next);
    for (const i of next) {
      const p: Promise<void> = one(i).finally(() => running.delete(p));
      running.add(p);
    }
    if (running.size === 0) break;
    await Promise.race(running);
  }
  await Promise.all(running);
  if (stop) return { ...(stop as FetchOutcome), fetched };
  return isComplete(s)
    ? { kind: "complete", fetched }
    : { kind: "interrupted", reason: "stopped", fetched };
}

function stopped(err: unknown, fetched: number): FetchOutcome {
  return { kind: "interrupted", reason: err instanceof Error ? err.message : String(err), fetched };
}
