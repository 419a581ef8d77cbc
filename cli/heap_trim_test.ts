/** trimHeap: a full collection after each burst a node tells of, one pending at a time. */
import assert from "node:assert/strict";
import type { NodeEvent } from "../node/mod.ts";
import { collectGarbage, trimHeap } from "./heap_trim.ts";

function source() {
  const listeners = new Set<(e: NodeEvent) => void>();
  return {
    subscribe(l: (e: NodeEvent) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    tell: (e: unknown) => listeners.forEach((l) => l(e as NodeEvent)),
    get listening() {
      return listeners.size;
    },
  };
}

Deno.test("collectGarbage runs a full collection in this runtime", () => {
  assert.equal(collectGarbage(), true);
});

Deno.test("trimHeap collects after the search index is ready and after a round of dials, once per burst", async () => {
  const s = source();
  let collected = 0;
  let wake = () => {};
  const stop = trimHeap(s, () => {
    collected++;
    wake();
  }, 10);
  try {
    const next = () => new Promise<void>((resolve) => (wake = resolve));
    let done = next();
    s.tell({ type: "message" }); // not a burst's end
    s.tell({ type: "search-index", state: "ready", indexed: 0, ms: 1 });
    s.tell({ type: "cascade", state: "done", failed: false, startedAt: 0, ms: 1, learnt: 0 });
    await done;
    assert.equal(collected, 1, "two ends told while one collection was pending: one collection");
    done = next();
    s.tell({ type: "cascade", state: "done", failed: false, startedAt: 0, ms: 1, learnt: 0 });
    await done;
    assert.equal(collected, 2);
  } finally {
    stop();
  }
  assert.equal(s.listening, 0, "stopped, it no longer listens");
});
