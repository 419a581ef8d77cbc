/** Which group files a member offers which anchor, as a pure decision. */
import assert from "node:assert/strict";
import { anchorOffers } from "./anchor_offers.ts";
import type { FileRecord, FileState } from "./file_records.ts";

const file = (hash: string, root: string, state: FileState, mine: boolean): FileRecord => ({
  hash,
  chat: "g",
  author: mine ? "me" : "alice",
  mine,
  seq: 1,
  ts: 0,
  manifest: { v: 1, name: hash, size: 10, type: "text/plain", chunk: 262144, root },
  state,
});

Deno.test("anchorOffers: complete files, fetched or ours, to each anchor that is not known to hold them", () => {
  const ours = file("a", "r1", "complete", true);
  const fetched = file("b", "r2", "complete", false);
  const fetching = file("c", "r3", "fetching", false);
  const cancelled = file("d", "r4", "failed", true);
  const refused = file("e", "r5", "refused", false);
  const twice = file("f", "r2", "complete", false);
  const records = [ours, fetched, fetching, cancelled, refused, twice];
  assert.deepEqual(
    anchorOffers(records, [
      { anchor: "hive", held: new Set() },
      // It took ours already (or we fetched r1 from it): only the fetched one.
      { anchor: "den", held: new Set(["r1"]) },
      { anchor: "full", held: new Set(["r1", "r2"]) },
    ]),
    [
      { anchor: "hive", files: [ours, fetched] },
      { anchor: "den", files: [fetched] },
    ],
  );
  assert.deepEqual(anchorOffers(records, []), []);
});
