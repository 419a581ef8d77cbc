import assert from "node:assert/strict";
import { toHex } from "../log/mod.ts";
import {
  chunkCount,
  chunkLength,
  fileRoot,
  listMatches,
  manifestBody,
  MAX_NAME_BYTES,
  mediaTypeOf,
  parseManifest,
  sanitiseName,
} from "./manifest.ts";

Deno.test("sanitiseName: last component, no control or bidi characters, no leading dots, bounded", () => {
  assert.equal(sanitiseName("/home/a/photo.jpg"), "photo.jpg");
  assert.equal(sanitiseName("..\\..\\windows\\system32\\x.dll"), "x.dll");
  assert.equal(sanitiseName("../../etc/passwd"), "passwd");
  assert.equal(sanitiseName(".."), "file");
  assert.equal(sanitiseName(".bashrc"), "bashrc");
  assert.equal(sanitiseName("a\u0000b\nc\rd\u001b[31me\u007f\u0085.txt"), "abcd[31me.txt");
  assert.equal(sanitiseName("invoice\u202egpj.exe"), "invoicegpj.exe");
  assert.equal(sanitiseName(""), "file");
  assert.equal(sanitiseName("   "), "file");
  const long = "é".repeat(200) + ".jpeg";
  const cut = sanitiseName(long);
  assert.ok(new TextEncoder().encode(cut).length <= MAX_NAME_BYTES);
  assert.ok(cut.endsWith(".jpeg"), "the extension is kept");
  assert.ok(!cut.includes("\ufffd"), "no character cut in half");
});

Deno.test("chunks: count and exact lengths", () => {
  assert.equal(chunkCount(0, 100), 0);
  assert.equal(chunkCount(100, 100), 1);
  assert.equal(chunkCount(101, 100), 2);
  assert.equal(chunkLength(250, 100, 2), 50);
  assert.equal(chunkLength(250, 100, 1), 100);
});

Deno.test("the root binds size, chunk size and every chunk hash (golden bytes)", () => {
  const hashes = new Uint8Array(64).map((_, i) => i);
  // SHA-256("roj-file-v1\0" || u64 300000 || u32 262144 || 00 01 … 3f), pinned:
  assert.equal(
    toHex(fileRoot(300_000, 262144, hashes)),
    toHex(fileRoot(300_000, 262144, hashes.slice())),
  );
  const golden = toHex(fileRoot(300_000, 262144, hashes));
  assert.equal(golden, GOLDEN_ROOT);
  assert.equal(golden, "697ee57c832d0e514947ffb24d88b79a0306652373a9841a20ebcb74c7def8ec");
  assert.notEqual(toHex(fileRoot(300_001, 262144, hashes)), golden, "size is inside");
  assert.notEqual(toHex(fileRoot(300_000, 131072, hashes)), golden, "chunk size is inside");
  const m = {
    v: 1 as const,
    name: "x",
    size: 300_000,
    type: "text/plain",
    chunk: 262144,
    root: golden,
  };
  assert.ok(listMatches(m, hashes));
  assert.ok(!listMatches({ ...m, size: 600_000 }, hashes), "a size that lies matches no list");
  assert.ok(!listMatches(m, hashes.subarray(0, 32)));
});

const GOLDEN_ROOT = await (async () => {
  const head = [
    ...new TextEncoder().encode("roj-file-v1\0"),
    ...[0, 0, 0, 0, 0, 4, 0x93, 0xe0], // 300000
    ...[0, 4, 0, 0], // 262144
    ...Array.from({ length: 64 }, (_, i) => i),
  ];
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(head))));
})();

Deno.test("parseManifest: the schema, and a peer's name sanitised again", () => {
  const m = {
    v: 1 as const,
    name: "ok.txt",
    size: 10,
    type: "text/plain",
    chunk: 262144,
    root: "a".repeat(64),
  };
  assert.deepEqual(parseManifest(manifestBody(m)), m);
  assert.equal(parseManifest(JSON.stringify({ ...m, name: "../../x\u001b.sh" })).name, "x.sh");
  for (
    const bad of [
      "not json",
      JSON.stringify({ ...m, v: 2 }),
      JSON.stringify({ ...m, size: -1 }),
      JSON.stringify({ ...m, size: 1.5 }),
      JSON.stringify({ ...m, chunk: 8 * 1024 * 1024 }),
      JSON.stringify({ ...m, root: "xyz" }),
      JSON.stringify({ ...m, type: "text/html; charset=\u001b" }),
      JSON.stringify({ ...m, name: "" }),
    ]
  ) {
    assert.throws(() => parseManifest(bad), /file entry/, bad);
  }
});

Deno.test("mediaTypeOf: by extension only", () => {
  assert.equal(mediaTypeOf("a.JPG"), "image/jpeg");
  assert.equal(mediaTypeOf("a.png"), "image/png");
  assert.equal(mediaTypeOf("noext"), "application/octet-stream");
});
