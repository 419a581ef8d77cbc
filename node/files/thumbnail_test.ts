import assert from "node:assert/strict";
import { tempDir } from "../../testing/temp.ts";
import { isJpeg, makeThumbnail, MAX_THUMB_SOURCE, THUMB_BOX, THUMB_BYTES } from "./thumbnail.ts";

/** A 900x600 PNG with some content, made with the same library. */
async function png(): Promise<Uint8Array> {
  const specifier = "jimp";
  // deno-lint-ignore no-explicit-any
  const { Jimp } = await import(specifier) as any;
  const img = new Jimp({ width: 900, height: 600, color: 0x3366ccff });
  for (let x = 0; x < 900; x += 7) img.setPixelColor(0xffcc00ff, x, (x * 3) % 600);
  return new Uint8Array(await img.getBuffer("image/png"));
}

Deno.test("the sender's thumbnail: a small JPEG that fits the box; none for what is not an image or too big", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png());
  const size = (await Deno.stat(`${dir.path}/a.png`)).size;
  const t = await makeThumbnail(`${dir.path}/a.png`, "image/png", size);
  assert.ok(t && isJpeg(t), "a JPEG");
  assert.ok(t.length <= THUMB_BYTES);
  const back = await import("jimp" as string) as {
    Jimp: { read(b: ArrayBuffer): Promise<{ width: number; height: number }> };
  };
  const img = await back.Jimp.read(t.slice().buffer);
  assert.deepEqual([img.width, img.height], [THUMB_BOX, Math.round((THUMB_BOX * 600) / 900)]);
  assert.equal(await makeThumbnail(`${dir.path}/a.png`, "application/pdf", size), null);
  assert.equal(await makeThumbnail(`${dir.path}/a.png`, "image/png", MAX_THUMB_SOURCE + 1), null);
  await Deno.writeFile(`${dir.path}/bad.png`, new Uint8Array([1, 2, 3]));
  assert.equal(
    await makeThumbnail(`${dir.path}/bad.png`, "image/png", 3),
    null,
    "a broken image: none",
  );
});
