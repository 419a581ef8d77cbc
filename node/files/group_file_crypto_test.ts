/** Golden bytes of a group file's sealed chunk, and the sealed layout's arithmetic. */
import assert from "node:assert/strict";
import { toHex } from "../log/mod.ts";
import {
  groupManifestText,
  openChunk,
  parseGroupManifest,
  SEAL_OVERHEAD,
  sealChunk,
  sealedManifest,
} from "./group_file_crypto.ts";
import { CHUNK_BYTES, chunkCount, chunkLength } from "./manifest.ts";

const K = Uint8Array.from({ length: 32 }, (_, i) => i);
const CHAT = "g-abcdefghijklmnopqrstuvwxyz";

Deno.test("a sealed chunk, byte for byte: key, nonce from the index, label, chat and index in the aad", () => {
  const sealed = sealChunk(K, CHAT, 2, new TextEncoder().encode("rope"));
  assert.equal(toHex(sealed), GOLDEN);
  assert.deepEqual(new TextDecoder().decode(openChunk(K, CHAT, 2, sealed)), "rope");
  // Another place, another chat, or a flipped bit: it does not open.
  assert.throws(() => openChunk(K, CHAT, 3, sealed), /chunk 3 does not open/);
  assert.throws(() => openChunk(K, "g-other", 2, sealed));
  const bad = sealed.slice();
  bad[0] = bad[0]! ^ 1;
  assert.throws(() => openChunk(K, CHAT, 2, bad));
});
/** Computed apart, with noble and the nonce and aad written out by hand. */
const GOLDEN = "432ec563e35ee18fd78b1ac5c9f6b25fd5010672";

Deno.test("the sealed file: 16 bytes more a chunk, the same number of chunks, each its plain length + 16", () => {
  for (const size of [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES + 77]) {
    const m = {
      v: 1 as const,
      name: "f",
      size,
      type: "text/plain",
      chunk: CHUNK_BYTES,
      root: "0".repeat(64),
    };
    const w = sealedManifest(m);
    const n = chunkCount(size, CHUNK_BYTES);
    assert.equal(chunkCount(w.size, w.chunk), n, `${size}`);
    for (let i = 0; i < n; i++) {
      assert.equal(
        chunkLength(w.size, w.chunk, i),
        chunkLength(size, CHUNK_BYTES, i) + SEAL_OVERHEAD,
      );
    }
  }
});

Deno.test("a group manifest keeps its key through its text; one without a 32-byte key is refused", () => {
  const m = {
    v: 1 as const,
    name: "a.txt",
    size: 5,
    type: "text/plain",
    chunk: CHUNK_BYTES,
    root: "a".repeat(64),
  };
  const back = parseGroupManifest(groupManifestText({ ...m, k: K }));
  assert.deepEqual([...back.k], [...K]);
  assert.equal(back.name, "a.txt");
  assert.throws(() => parseGroupManifest(JSON.stringify(m)), /k: not a 32-byte key/);
  assert.throws(() => parseGroupManifest(JSON.stringify({ ...m, k: "AAAA" })), /32-byte key/);
});
