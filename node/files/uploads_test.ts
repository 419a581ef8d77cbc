import assert from "node:assert/strict";
import type { FileView } from "../api/mod.ts";
import { tempDir } from "../../testing/temp.ts";
import { MAX_UPLOADS, Uploads } from "./uploads.ts";

Deno.test("uploads: parts in order, under the limit, a few at once; the last sends and drops it", async () => {
  await using dir = await tempDir();
  const sent: { name: string; bytes: number[] }[] = [];
  const ups = await Uploads.open(dir.path, 10, async (_chat, path, name) => {
    sent.push({ name, bytes: [...await Deno.readFile(path)] });
    return { name } as FileView;
  });
  assert.equal((await Deno.stat(`${dir.path}/uploads`)).mode! & 0o777, 0o700);
  const base = { chat: "bob", name: "a.txt" };
  await assert.rejects(
    () => ups.part({ ...base, offset: 3, bytes: new Uint8Array(1), last: false }),
    /starts at offset 0/,
  );
  const first = await ups.part({ ...base, offset: 0, bytes: new Uint8Array([1, 2]), last: false });
  assert.equal(first.received, 2);
  await assert.rejects(
    () =>
      ups.part({ ...base, upload: first.upload, offset: 1, bytes: new Uint8Array(1), last: false }),
    /expected the part at offset 2/,
  );
  await assert.rejects(
    () =>
      ups.part({
        ...base,
        chat: "carol",
        upload: first.upload,
        offset: 2,
        bytes: new Uint8Array(1),
        last: true,
      }),
    /no such upload/,
  );
  const done = await ups.part({
    ...base,
    upload: first.upload,
    offset: 2,
    bytes: new Uint8Array([3]),
    last: true,
  });
  assert.equal(done.file?.name, "a.txt");
  assert.deepEqual(sent, [{ name: "a.txt", bytes: [1, 2, 3] }]);
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/uploads`)], [], "dropped once sent");

  const big = await ups.part({ ...base, offset: 0, bytes: new Uint8Array(8), last: false });
  await assert.rejects(
    () =>
      ups.part({ ...base, upload: big.upload, offset: 8, bytes: new Uint8Array(3), last: false }),
    /over the limit of 10 bytes/,
  );
  for (let i = 0; i < MAX_UPLOADS; i++) {
    await ups.part({ ...base, offset: 0, bytes: new Uint8Array(1), last: false });
  }
  await assert.rejects(
    () => ups.part({ ...base, offset: 0, bytes: new Uint8Array(1), last: false }),
    /uploads are under way/,
  );
});
