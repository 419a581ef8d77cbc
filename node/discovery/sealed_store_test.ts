import assert from "node:assert/strict";
import { tempStore } from "../../testing/temp.ts";
import { SEALED_QUOTA, SealedStore } from "./sealed_store.ts";
import { TAG_BYTES } from "./pairwise.ts";

const tag = (n: number) => new Uint8Array(TAG_BYTES).fill(n);
const key = (n: number) => new Uint8Array(32).fill(n);
const blob = (n: number) => new Uint8Array(100).fill(n);

Deno.test("SealedStore.drop forgets one uploader's copies, in memory and in the store", async () => {
  await using t = await tempStore();
  const held = await SealedStore.open(t.store);
  const [mallory, carol] = [key(1), key(2)];
  assert.equal(
    await held.put(mallory, [{ tag: tag(1), blob: blob(1) }, { tag: tag(2), blob: blob(2) }], 1),
    2,
  );
  assert.equal(await held.put(carol, [{ tag: tag(2), blob: blob(3) }], 2), 1);
  assert.equal(held.size, 3);

  assert.equal(await held.drop(mallory), 2);
  assert.equal(held.size, 1);
  assert.deepEqual(await held.get([tag(1), tag(2)]), [{ tag: tag(2), blob: blob(3) }]);
  assert.equal(await held.drop(mallory), 0, "nothing left to drop");
  const reopened = await SealedStore.open(t.store);
  assert.equal(reopened.size, 1);
  assert.deepEqual(await reopened.get([tag(1), tag(2)]), [{ tag: tag(2), blob: blob(3) }]);

  // The quota is free again for whoever comes back with that key.
  const many = Array.from({ length: SEALED_QUOTA }, (_, i) => ({
    tag: new Uint8Array(TAG_BYTES).fill(0).map((_, j) => (j < 2 ? (i >> (8 * j)) & 0xff : 7)),
    blob: blob(9),
  }));
  assert.equal(await reopened.put(mallory, many, 3), SEALED_QUOTA);
  assert.equal(await reopened.drop(mallory), SEALED_QUOTA);
  assert.equal(reopened.size, 1);
});
