/**
 * The store snapshot is one committed state while another connection keeps
 * committing: every snapshot holds exactly the pairs of the counter it holds.
 */
import assert from "node:assert/strict";
import { tempDir } from "../../testing/temp.ts";
import { snapshotStore } from "./snapshot.ts";

Deno.test("a snapshot taken under a stream of commits is one committed state", async () => {
  await using d = await tempDir();
  const kv = await Deno.openKv(`${d.path}/roj.kv`);
  let stop = false;
  const writing = (async () => {
    // Each commit sets the counter and adds one row: a consistent copy has n + 1 rows.
    for (let i = 0; !stop; i++) await kv.atomic().set(["n"], i).set(["row", i], i).commit();
  })();
  try {
    for (let k = 0; k < 5; k++) {
      await new Promise((r) => setTimeout(r, 30));
      const copy = `${d.path}/copy-${k}.kv`;
      await snapshotStore(`${d.path}/roj.kv`, copy);
      const snap = await Deno.openKv(copy);
      try {
        const n = (await snap.get<number>(["n"])).value ?? -1;
        const rows = (await Array.fromAsync(snap.list({ prefix: ["row"] }))).length;
        assert.equal(rows, n + 1, `snapshot ${k}: counter ${n}, rows ${rows}`);
      } finally {
        snap.close();
      }
    }
  } finally {
    stop = true;
    await writing;
    kv.close();
  }
});
