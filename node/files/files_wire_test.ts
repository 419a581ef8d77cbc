/** Golden bytes of the files1 frames, and the bounds their schemas put on a peer. */
import assert from "node:assert/strict";
import { encodeFrame, FrameDecoder, MAX_FRAME } from "../protocol/mod.ts";
import { check, encodeB64, MAX_CHUNK_WIRE, MAX_LIST_HASHES } from "../protocol/mod.ts";
import { MAX_CHUNK_BYTES } from "./manifest.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const ROOT = "ab".repeat(32);

Deno.test("files.get and files.list frames, byte for byte", () => {
  const get = encodeFrame({ t: "req", id: 9, m: "files.get", p: { root: ROOT, index: 3 } });
  const json = `{"t":"req","id":9,"m":"files.get","p":{"root":"${ROOT}","index":3}}`;
  assert.equal(hex(get.subarray(0, 4)), json.length.toString(16).padStart(8, "0"));
  assert.equal(new TextDecoder().decode(get.subarray(4)), json);
  assert.equal(hex(get.subarray(0, 4)), "0000007c");
  const res = encodeFrame({
    t: "res",
    id: 9,
    ok: true,
    r: { b: encodeB64(new Uint8Array([1, 2, 3])) },
  });
  assert.equal(
    hex(res),
    "0000002d" + hex(new TextEncoder().encode('{"t":"res","id":9,"ok":true,"r":{"b":"AQID"}}')),
  );
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
});

Deno.test("the largest chunk and the largest list fit one frame; more is refused by the schema", () => {
  assert.equal(MAX_CHUNK_WIRE, MAX_CHUNK_BYTES);
  const chunk = encodeB64(new Uint8Array(MAX_CHUNK_BYTES));
  const frame = encodeFrame({ t: "res", id: 2 ** 40, ok: true, r: { b: chunk } });
  assert.ok(frame.length - 4 <= MAX_FRAME);
  assert.equal(new FrameDecoder().push(frame).length, 1);
  check("files.get", "result", { b: chunk });
  assert.throws(
    () => check("files.get", "result", { b: encodeB64(new Uint8Array(MAX_CHUNK_BYTES + 3)) }),
    /files\.get result: b/,
  );
  const hashes = encodeB64(new Uint8Array(32 * MAX_LIST_HASHES));
  assert.ok(encodeFrame({ t: "res", id: 1, ok: true, r: { hashes } }).length - 4 <= MAX_FRAME);
  check("files.list", "result", { hashes });
  assert.throws(() =>
    check("files.list", "params", { root: ROOT, from: 0, count: MAX_LIST_HASHES + 1 })
  );
  assert.throws(() => check("files.get", "params", { root: "AB".repeat(32), index: 0 }));
  assert.throws(() => check("files.get", "params", { root: ROOT, index: -1 }));
});
