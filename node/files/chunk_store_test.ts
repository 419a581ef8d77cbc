/**
 * ChunkStore.read skips the second hash only for a chunk this process kept or
 * checked and whose file is unchanged: a same-size change (another mtime) is
 * still caught and dropped, and a fresh store (a restart) checks everything.
 */
import assert from "node:assert/strict";
import { tempDir } from "../../testing/temp.ts";
import { toHex } from "../log/mod.ts";
import { ChunkStore, sha256Of } from "./chunk_store.ts";

Deno.test("the store: a kept chunk changed on disk (same size) is caught; a reopened store checks again", async () => {
  await using dir = await tempDir();
  const store = await ChunkStore.open(dir.path);
  const bytes = crypto.getRandomValues(new Uint8Array(4096));
  const hash = await sha256Of(bytes);
  assert.equal(await store.put(hash, bytes), true);
  assert.deepEqual(await store.read(hash), bytes);
  const hex = toHex(hash);
  const path = `${dir.path}/files/chunks/${hex.slice(0, 2)}/${hex}`;

  // The same size, another time: hashed again, found wrong, dropped.
  await Deno.writeFile(path, new Uint8Array(4096));
  await Deno.utime(path, new Date(1_000_000), new Date(1_000_000));
  await assert.rejects(() => store.read(hash), /damaged/);
  assert.equal(await store.has(hash), false);

  // A store opened anew knows nothing checked: a copy damaged meanwhile is caught too.
  assert.equal(await store.put(hash, bytes), true);
  const stat = await Deno.stat(path);
  await Deno.writeFile(path, new Uint8Array(4096));
  await Deno.utime(path, stat.atime!, stat.mtime!);
  const reopened = await ChunkStore.open(dir.path);
  await assert.rejects(() => reopened.read(hash), /damaged/);
});
