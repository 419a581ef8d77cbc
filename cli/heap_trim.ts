/**
 * `roj run`: a full garbage collection a second after each burst of work
 * ends, and then at long intervals. A node with 1,000 contacts leaves ~20 MB
 * of garbage and spare heap pages after each round of dials (at start and at
 * each back-off retry) and after its search index is rebuilt, and V8 in Deno
 * gives none of it back while the node idles: its memory reducer does not
 * run, and an ordinary collection waits until the heap reaches its limit,
 * which an idle node does not.
 * Issue 16: the 1,000-contact node 154.5 -> 139.8 MB RSS, an idle one 104.5 -> 95.4.
 *
 * A process's concern, not a node's: tests run many nodes in one process.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { NodeEvent } from "../node/mod.ts";
import type { EventSource } from "./events_file.ts";

/** After a burst ends, the work it set off (replies, timers) settles this long before a collection. */
export const TRIM_QUIET_MS = 1000;
/** And one collection per interval: a catch-up or a busy hour leaves its garbage too. */
export const TRIM_EVERY_MS = 10 * 60_000;

/**
 * The ends of the bursts that leave most garbage behind: the search index
 * rebuilt (the last thing a start does) and each round of dials to every
 * contact (at start, after an address change, and its back-off retries).
 */
function burstEnded(e: NodeEvent): boolean {
  return (e.type === "search-index" && e.state === "ready") ||
    (e.type === "cascade" && e.state === "done");
}

/**
 * A full collection, when this V8 lets one be asked for: `gc` with
 * --expose-gc, or else one got through a fresh context after turning the
 * flag on (the context is dropped with the function, so nothing stays).
 */
export function collectGarbage(): boolean {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") {
    exposed();
    return true;
  }
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    if (typeof gc !== "function") return false;
    gc();
    return true;
  } catch {
    return false; // a runtime without the flag or node:vm: the heap shrinks when V8 decides
  }
}

/**
 * Collects `TRIM_QUIET_MS` after each burst `source` tells of (one pending
 * at a time), and every `TRIM_EVERY_MS`. Returns a function that stops it.
 */
export function trimHeap(
  source: EventSource,
  collect: () => unknown = collectGarbage,
  quietMs = TRIM_QUIET_MS,
): () => void {
  let pending: ReturnType<typeof setTimeout> | undefined;
  const every = setInterval(collect, TRIM_EVERY_MS);
  const unsubscribe = source.subscribe((e) => {
    if (pending !== undefined || !burstEnded(e)) return;
    pending = setTimeout(() => {
      pending = undefined;
      collect();
    }, quietMs);
  });
  return () => {
    unsubscribe();
    clearTimeout(pending);
    clearInterval(every);
  };
}

/** File bytes sent or received between two minor collections (scavengeEvery). */
export const SCAVENGE_EVERY_BYTES = 4 * 1024 * 1024;

/**
 * A minor collection (a scavenge of the young generation), when `gc` is
 * exposed (--expose-gc in the run flags); else nothing.
 */
export function scavenge(): boolean {
  const exposed = (globalThis as { gc?: (o: { type: string }) => void }).gc;
  if (typeof exposed !== "function") return false;
  exposed({ type: "minor" });
  return true;
}

/**
 * A counter of file bytes that scavenges every `every` of them (issue 15).
 * Each 256 KiB chunk sent or received leaves its buffers dead at once, but
 * V8 frees ArrayBuffer memory only when a collection finds them, and sees
 * too little of it on its own heap to collect soon: a receiver's RSS rose
 * ~100 MiB. A scavenge of a young generation of a few MiB costs well under a
 * millisecond, per 4 MiB moved. With --external-memory-max-growing-factor=2
 * (the run flags), V8's own limit on that memory stays near what is live.
 */
export function scavengeEvery(
  every = SCAVENGE_EVERY_BYTES,
  collect: () => unknown = scavenge,
): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < every) return;
    since = 0;
    collect();
  };
}
