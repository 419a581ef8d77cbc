/** Golden bytes of the files1 frames, and the bounds their schemas put on a peer. */
import assert from "node:assert/strict";
import { encodeFrame, type Frame, FrameDecoder, MAX_FRAME } from "../protocol/mod.ts";
import type { BinaryAnswer } from "../protocol/messages.ts";
import { check, encodeB64, MAX_CHUNK_WIRE, MAX_LIST_HASHES } from "../protocol/mod.ts";
import { MAX_CHUNK_BYTES } from "./manifest.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const ROOT = "ab".repeat(32);

Deno.test("files.get and files.list frames, byte for byte; the chunk comes in a binary answer", () => {
  const get = encodeFrame({ t: "req", id: 9, m: "files.get", p: { root: ROOT, index: 3 } });
  const json = `{"t":"req","id":9,"m":"files.get","p":{"root":"${ROOT}","index":3}}`;
  assert.equal(hex(get.subarray(0, 4)), "0000007c");
  assert.equal(new TextDecoder().decode(get.subarray(4)), json);
  const bin = encodeFrame({ t: "bin", id: 9, bytes: new Uint8Array([1, 2, 3]) } as Frame);
  assert.equal(hex(bin), "0000000d" + "0062" + "0000000000000009" + "010203");
  const [back] = new FrameDecoder().push(bin) as BinaryAnswer[];
  assert.deepEqual({ ...back, bytes: [...back!.bytes] }, { t: "bin", id: 9, bytes: [1, 2, 3] });
  const list = encodeFrame({
    t: "req",
    id: 1,
    m: "files.list",
    p: { root: ROOT, from: 0, count: 2 },
  });
  assert.equal(
    new TextDecoder().decode(list.subarray(4)),
    `{"t":"req","id":1,"m":"files.list","p":{"root":"${ROOT}","from":0,"count":2}}`,
  );
  assert.throws(
    () => new FrameDecoder().push(new Uint8Array([0, 0, 0, 3, 0, 0x62, 1])),
    /malformed binary/,
  );
});

Deno.test("a binary answer's bytes are its own, not a view of the reader's buffer", () => {
  const bin = encodeFrame({ t: "bin", id: 1, bytes: new Uint8Array([7, 7]) } as Frame);
  const reused = new Uint8Array(64);
  reused.set(bin);
  const [f] = new FrameDecoder().push(reused.subarray(0, bin.length)) as BinaryAnswer[];
  reused.fill(0);
  assert.deepEqual([...f!.bytes], [7, 7]);
});

Deno.test("the largest chunk and the largest list fit one frame; more is refused by the schema", () => {
  assert.equal(MAX_CHUNK_WIRE, MAX_CHUNK_BYTES);
  const chunk = new Uint8Array(MAX_CHUNK_BYTES);
  const frame = encodeFrame({ t: "bin", id: 2 ** 40, bytes: chunk } as Frame);
  assert.ok(frame.length - 4 <= MAX_FRAME);
  assert.equal(new FrameDecoder().push(frame).length, 1);
  check("files.get", "result", { b: chunk });
  assert.throws(
    () => check("files.get", "result", { b: new Uint8Array(MAX_CHUNK_BYTES + 1) }),
    /files\.get result: b/,
  );
  assert.throws(() => check("files.get", "result", { b: "AQID" }));
  const hashes = encodeB64(new Uint8Array(32 * MAX_LIST_HASHES));
  assert.ok(encodeFrame({ t: "res", id: 1, ok: true, r: { hashes } }).length - 4 <= MAX_FRAME);
  check("files.list", "result", { hashes });
  assert.throws(() =>
    check("files.list", "params", { root: ROOT, from: 0, count: MAX_LIST_HASHES + 1 })
  );
  assert.throws(() => check("files.get", "params", { root: "AB".repeat(32), index: 0 }));
  assert.throws(() => check("files.get", "params", { root: ROOT, index: -1 }));
});
