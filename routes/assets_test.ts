import assert from "node:assert/strict";
import { islandsSourceHash, prebuiltIslands, stampBundle } from "./assets.ts";

Deno.test("a prebuilt islands bundle is served only while it matches the island sources", async () => {
  const dir = await Deno.makeTempDir({ prefix: "roj-assets-" });
  try {
    const sources = new URL(`file://${dir}/islands/`);
    const file = new URL(`file://${dir}/islands.js`);
    await Deno.mkdir(sources);
    await Deno.writeTextFile(new URL("main.tsx", sources), "export const a = 1;\n");
    assert.deepEqual(await prebuiltIslands(file, sources), {
      stale: "static/islands.js is missing",
    });

    const bundle = new TextEncoder().encode("var a=1;");
    await Deno.writeFile(file, bundle);
    assert.deepEqual(await prebuiltIslands(file, sources), {
      stale: "static/islands.js has no source header",
    });

    const stamped = stampBundle(bundle, await islandsSourceHash(sources));
    await Deno.writeFile(file, stamped);
    assert.deepEqual(await prebuiltIslands(file, sources), { body: stamped });

    // Someone edits an island and starts main.ts without building.
    await Deno.writeTextFile(new URL("main.tsx", sources), "export const a = 2;\n");
    assert.deepEqual(await prebuiltIslands(file, sources), {
      stale: "static/islands.js is older than islands/",
    });

    // A compiled binary has the bundle but no islands/ to compare with.
    await Deno.remove(sources, { recursive: true });
    assert.deepEqual(await prebuiltIslands(file, sources), { body: stamped });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
