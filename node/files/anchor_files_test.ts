/** An anchor's bounds on the group files it holds, as a pure decision. */
import assert from "node:assert/strict";
import { offerRefusal } from "./anchor_files.ts";

const limits = { perUploaderBytes: 1000, totalBytes: 5000, ttlMs: 1 };

Deno.test("offerRefusal: the member's quota first, then the anchor's cap, each with the numbers", () => {
  assert.equal(offerRefusal(400, 600, 600, limits), null);
  assert.equal(
    offerRefusal(401, 600, 600, limits),
    "your files would take 1001 bytes here, over the quota of 1000 bytes per member",
  );
  assert.equal(
    offerRefusal(400, 0, 4700, limits),
    "the anchor's files would take 5100 bytes, over its cap of 5000",
  );
});
