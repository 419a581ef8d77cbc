import assert from "node:assert/strict";
import { tempStore } from "../../testing/temp.ts";
import { SEALED_QUOTA, SealedStore } from "./sealed_store.ts";

const tag = (b: number) => new Uint8Array(16).fill(b);
const key = (b: number) => new Uint8Array(32).fill(b);

Deno.test("sealed store: a copy per uploader and tag; nobody can overwrite the owner's copy; quotas", async () => {
  await using t = await tempStore();
  const s = await SealedStore.open(t.store);
  assert.equal(await s.put(key(1), [{ tag: tag(9), blob: new Uint8Array([1]) }], 1), 1);
  // Someone else who has seen the tag adds a copy beside it; the owner's copy stays.
  assert.equal(await s.put(key(2), [{ tag: tag(9), blob: new Uint8Array([2]) }], 2), 1);
  const got = await s.get([tag(9)]);
  assert.deepEqual(got.map((g) => g.blob[0]).sort(), [1, 2]);
  // The owner refreshes its own copy.
  await s.put(key(1), [{ tag: tag(9), blob: new Uint8Array([3]) }], 3);
  assert.deepEqual((await s.get([tag(9)])).map((g) => g.blob[0]), [3, 2], "newest first");
  assert.equal(s.size, 2);
  // Reopened from the store: the same.
  const again = await SealedStore.open(t.store);
  assert.equal(again.size, 2);
  // Quota per uploader; malformed items are skipped.
  const many = Array.from(
    { length: SEALED_QUOTA + 5 },
    (_, i) => ({
      tag: new Uint8Array(16).fill(0).map((_, j) => (j < 4 ? (i >> (8 * j)) & 255 : 7)),
      blob: new Uint8Array([0]),
    }),
  );
  assert.equal(
    await s.put(key(3), many.slice(0, 400), 4) + await s.put(key(3), many.slice(400), 5),
    SEALED_QUOTA,
  );
  assert.equal(
    await s.put(key(4), [{ tag: new Uint8Array(3), blob: new Uint8Array(1) }, {
      tag: tag(1),
      blob: new Uint8Array(5000),
    }], 6),
    0,
  );
});

Deno.test("sealed store: copies beyond the memory budget are served from the store, in the same order", async () => {
  await using t = await tempStore();
  const small = await SealedStore.open(t.store, 2); // room for two one-byte copies
  for (let i = 1; i <= 5; i++) {
    await small.put(key(i), [{ tag: tag(9), blob: new Uint8Array([i]) }], i);
  }
  await small.put(key(6), [{ tag: tag(8), blob: new Uint8Array([6]) }], 6);
  const got = await small.get([tag(9), tag(8)]);
  assert.deepEqual(
    got.map((g) => g.blob[0]).sort(),
    [3, 4, 5, 6],
    "the 3 newest of tag 9, and 8's",
  );
  const reopened = await SealedStore.open(t.store, 0);
  assert.deepEqual(
    (await reopened.get([tag(9), tag(8)])).map((g) => g.blob[0]).sort(),
    [3, 4, 5, 6],
  );
});
