import assert from "node:assert/strict";
import {
  emptyTable,
  tableEntries,
  tableGet,
  tableOf,
  tablePeers,
  tableWith,
} from "./dial_table.ts";

Deno.test("peer table: set, replace and remove leave every earlier table as it was; size counts peers", () => {
  const ids = Array.from({ length: 1000 }, (_, i) => (i * 2654435761 >>> 0).toString(16));
  let t = emptyTable<number>();
  const versions = [t];
  for (const [i, id] of ids.entries()) versions.push(t = tableWith(t, id, i));
  assert.equal(t.size, 1000);
  assert.deepEqual(tablePeers(t).sort(), ids.slice().sort());
  assert.equal(tableGet(t, ids[500]!), 500);
  assert.equal(versions[10]!.size, 10, "an earlier table is unchanged");
  assert.equal(tableGet(versions[10]!, ids[500]!), undefined);
  const replaced = tableWith(t, ids[3]!, -3);
  assert.equal(replaced.size, 1000);
  assert.equal(tableGet(replaced, ids[3]!), -3);
  assert.equal(tableGet(t, ids[3]!), 3);
  let gone = t;
  for (const id of ids) gone = tableWith(gone, id, undefined);
  assert.equal(gone.size, 0);
  assert.deepEqual(tableEntries(gone), []);
  assert.deepEqual(gone.parts, {}, "empty parts are dropped");
  assert.equal(
    tableWith(gone, "abc", undefined),
    gone,
    "removing what is not there changes nothing",
  );
  assert.equal(t.size, 1000);
});

Deno.test("peer table: tableOf is tableWith for each entry in turn, in one pass", () => {
  const ids = Array.from({ length: 1000 }, (_, i) => (i * 2654435761 >>> 0).toString(16));
  const entries: [string, number][] = ids.map((id, i) => [id, i]);
  entries.push([ids[7]!, -7]); // a later entry for a peer replaces the earlier
  let one = emptyTable<number>();
  for (const [id, v] of entries) one = tableWith(one, id, v);
  const t = tableOf(entries);
  assert.deepEqual(t, one);
  assert.deepEqual(tableEntries(t), tableEntries(one), "in the same order");
  assert.equal(t.size, 1000);
  assert.deepEqual(tableOf([]), emptyTable());
});
