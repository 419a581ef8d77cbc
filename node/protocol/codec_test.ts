import assert from "node:assert/strict";
import { isRojError } from "../errors.ts";
import { encodeFrame, FrameDecoder } from "./codec.ts";
import { MAX_FRAME } from "./messages.ts";

const frameOf = (payload: string) => {
  const bytes = new TextEncoder().encode(payload);
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
};

Deno.test("golden bytes: a hello frame is a u32 length then JSON", () => {
  const bytes = encodeFrame({ t: "hello", v: 1, features: ["sync1"], name: "a" });
  const expected = frameOf('{"t":"hello","v":1,"features":["sync1"],"name":"a"}');
  assert.deepEqual(bytes, expected);
  assert.deepEqual([...bytes.slice(0, 4)], [0, 0, 0, 51]);
});

Deno.test("frames split across chunks at every byte reassemble", () => {
  const a = encodeFrame({ t: "req", id: 1, m: "sync.heads", p: { chat: "x" } });
  const b = encodeFrame({ t: "res", id: 1, ok: true, r: { heads: [] } });
  const all = new Uint8Array([...a, ...b]);
  for (let cut = 0; cut <= all.length; cut++) {
    const d = new FrameDecoder();
    const got = [...d.push(all.slice(0, cut)), ...d.push(all.slice(cut))];
    assert.deepEqual(got.map((f) => f.t), ["req", "res"]);
  }
});

Deno.test("large frames in many small chunks, some reused by the sender, reassemble", () => {
  const big = (id: number) =>
    encodeFrame({ t: "req", id, m: "sync.push", p: { data: "x".repeat(300_000 + id) } });
  const all = new Uint8Array([
    ...big(1),
    ...big(2),
    ...encodeFrame({ t: "res", id: 3, ok: true, r: null }),
  ]);
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const d = new FrameDecoder();
  const got = [];
  const scratch = new Uint8Array(5000); // one buffer for every chunk, as a socket reader may do
  for (let at = 0; at < all.length;) {
    const n = Math.min(all.length - at, 1 + Math.floor(rand() * (rand() < 0.5 ? 3 : 4999)));
    scratch.set(all.subarray(at, at + n));
    got.push(...d.push(scratch.subarray(0, n)));
    scratch.fill(0xee);
    at += n;
  }
  assert.deepEqual(got.map((f) => (f as { id?: number }).id), [1, 2, 3]);
  const p = (got[1] as unknown as { p: { data: string } }).p;
  assert.equal(p.data, "x".repeat(300_002));
});

Deno.test("oversized, empty, non-JSON and ill-shaped frames are refused", () => {
  const huge = new Uint8Array(4);
  new DataView(huge.buffer).setUint32(0, MAX_FRAME + 1);
  assert.throws(
    () => new FrameDecoder().push(huge),
    (e) => isRojError(e, "protocol") && /refused/.test(e.message),
  );
  assert.throws(() => new FrameDecoder().push(new Uint8Array(4)), (e) => isRojError(e, "protocol"));
  assert.throws(
    () => new FrameDecoder().push(frameOf("not json")),
    (e) => isRojError(e, "protocol"),
  );
  assert.throws(() => new FrameDecoder().push(frameOf("[1,2]")), (e) => isRojError(e, "protocol"));
  assert.throws(
    () => new FrameDecoder().push(frameOf('{"t":"req","id":"x","m":"a"}')),
    (e) => isRojError(e, "protocol"),
  );
  assert.throws(
    () => new FrameDecoder().push(new Uint8Array([0, 0, 0, 2, 0xff, 0xfe])),
    (e) => isRojError(e, "protocol"),
  );
  assert.throws(
    () => encodeFrame({ t: "req", id: 1, m: "x", p: "a".repeat(MAX_FRAME) }),
    (e) => isRojError(e, "protocol"),
  );
});

Deno.test("unknown frame kinds pass as ignorable", () => {
  assert.deepEqual(new FrameDecoder().push(frameOf('{"t":"future","x":1}')), [{ t: "future" }]);
});

Deno.test("randomised garbage never crashes the decoder: it yields frames or a protocol error", () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 2000; i++) {
    const junk = Uint8Array.from(
      { length: Math.floor(rand() * 64) },
      () => Math.floor(rand() * 256),
    );
    try {
      new FrameDecoder().push(junk);
    } catch (e) {
      assert.ok(isRojError(e, "protocol"), String(e));
    }
  }
});
