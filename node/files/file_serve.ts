/**
 * Serving file chunks to one contact on its session (feature files1): only
 * files of the chat we share with it, whose chunks we hold; at most
 * MAX_SERVING chunk reads at once per session (more are answered busy), so a
 * peer cannot make us hold more than MAX_SERVING chunks in memory.
 */
import { RojError } from "../errors.ts";
import { encodeB64, type RpcSession } from "../protocol/mod.ts";
import type { ChunkStore } from "./chunk_store.ts";
import type { FileRecord } from "./file_records.ts";
import { chunkCount } from "./manifest.ts";
import { progressStep } from "./transfer_plan.ts";

/** Chunk reads one session may have under way. */
export const MAX_SERVING = 16;

export interface ServeDeps {
  readonly chunks: ChunkStore;
  /** The record of the file with this root in the shared chat, if any. */
  find(root: string): Promise<FileRecord | null>;
  /** Distinct chunks of `r` served on this session so far (for the sender's progress). */
  served(r: FileRecord, done: number, total: number): void;
}

export function serveFiles(rpc: RpcSession, d: ServeDeps): void {
  let serving = 0;
  const seen = new Map<string, { chunks: Set<number>; told: number }>();
  // The last list read: a list is named by its root and never changes, and a peer asks
  // for one file's chunks in a row (a 2 GiB file's list is 256 KiB, read again per chunk).
  let last: { root: string; list: Uint8Array } | null = null;
  const listOf = async (root: string) => {
    const r = await d.find(root);
    const list = !r ? null : last?.root === root ? last.list : await d.chunks.list(root);
    if (list) last = { root, list };
    if (!r || !list) throw new RojError("not_found", "no such file here");
    if (r.mine && r.state !== "complete") {
      throw new RojError("not_found", "the sender cancelled it");
    }
    return { r, list };
  };
  rpc.handle("files.list", async (p) => {
    const { list } = await listOf(p.root);
    const count = list.length / 32;
    if (p.from >= count) throw new RojError("bad_input", "past the end of the list");
    return {
      hashes: encodeB64(list.subarray(p.from * 32, Math.min(count, p.from + p.count) * 32)),
    };
  });
  rpc.handle("files.get", async (p) => {
    if (serving >= MAX_SERVING) throw new RojError("busy", "too many chunks asked for at once");
    serving++;
    try {
      const { r, list } = await listOf(p.root);
      if (p.index >= list.length / 32) throw new RojError("bad_input", "no such chunk");
      const bytes = await d.chunks.read(list.subarray(p.index * 32, p.index * 32 + 32));
      if (r.mine) {
        const total = chunkCount(r.manifest.size, r.manifest.chunk);
        let s = seen.get(r.hash);
        if (!s) seen.set(r.hash, s = { chunks: new Set(), told: -1 });
        s.chunks.add(p.index);
        const step = progressStep(s.told, s.chunks.size, total);
        if (step !== null) {
          s.told = step;
          d.served(r, s.chunks.size, total);
          if (s.chunks.size === total) seen.delete(r.hash);
        }
      }
      return { b: bytes };
    } finally {
      serving--;
    }
  });
}
