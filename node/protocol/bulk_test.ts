/**
 * Bulk pages (feature bulk1): the layouts pinned byte for byte, every
 * malformed page refused, and the session sending binary only to a peer
 * that lists bulk1 (JSON to an older one), with one handler for both.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { isRojError } from "../errors.ts";
import { memoryPipePair, type Pipe } from "../transport/mod.ts";
import { toHex } from "../wire/mod.ts";
import {
  decodeMboxPage,
  decodePushPage,
  encodeMboxPage,
  encodePushPage,
  MAX_BOX_BYTES,
  MAX_BULK_SIG,
  MAX_BULK_SIGNED,
  type PushPage,
} from "./bulk.ts";
import { encodeFrame, FrameDecoder } from "./codec.ts";
import type { Frame } from "./messages.ts";
import { encodeB64, MAX_PUSH_ENTRIES } from "./methods.ts";
import { RpcSession } from "./rpc.ts";

const te = new TextEncoder();
const cat = (...parts: Array<number[] | Uint8Array>) =>
  new Uint8Array(parts.flatMap((p) => [...p]));
const u32 = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
/** The smallest byte strings the page layout takes for an entry and its signature. */
const SIGNED = cat(u32(12), te.encode("roj-entry-v1"), [0xaa]);
const SIG = cat(te.encode("SSHSIG"), [0xbb]);
const PAGE: PushPage = { chat: "d-ab", entries: [{ signed: SIGNED, sig: SIG }] };

Deno.test("bulk golden bytes: a sync.push page and its binary request frame", () => {
  const page = encodePushPage(PAGE);
  assert.equal(
    toHex(page),
    "00000004" + "642d6162" + // string chat "d-ab"
      "00000001" + // one entry
      "00000011" + "0000000c726f6a2d656e7472792d7631aa" + // string signed
      "00000007" + "535348534947bb", // string sig
  );
  const frame = encodeFrame({ t: "breq", id: 7, m: "sync.push", bytes: page });
  assert.equal(
    toHex(frame.subarray(0, 24)),
    "00000040" + // payload length: 2 + 8 + 1 + 9 + 44
      "0071" + "0000000000000007" + // head, request id
      "09" + "73796e632e70757368", // method "sync.push"
  );
  assert.deepEqual(frame.subarray(24), page);
  const [back] = new FrameDecoder().push(frame);
  assert.deepEqual(back, { t: "breq", id: 7, m: "sync.push", bytes: page });
  assert.deepEqual(decodePushPage(page), PAGE);
});

Deno.test("bulk golden bytes: an mbox.get page, as a binary answer", () => {
  const page = encodeMboxPage({
    gen: "g1",
    items: [{ n: 5, b: new Uint8Array([1, 2]) }],
    more: true,
  });
  assert.equal(
    toHex(page),
    "00000002" + "6731" + // string gen "g1"
      "01" + // more
      "00000001" + // one box
      "0000000000000005" + "00000002" + "0102", // n, string box
  );
  const frame = encodeFrame({ t: "bin", id: 9, bytes: page } as Frame);
  assert.equal(toHex(frame.subarray(0, 14)), "00000023" + "0062" + "0000000000000009");
  assert.deepEqual(decodeMboxPage(page), {
    gen: "g1",
    items: [{ n: 5, b: new Uint8Array([1, 2]) }],
    more: true,
  });
  assert.deepEqual(decodeMboxPage(encodeMboxPage({ gen: "", items: [], more: false })), {
    gen: "",
    items: [],
    more: false,
  });
});

Deno.test("bulk pages: every malformed page is refused whole, as bad_input", () => {
  const entry = (signed: Uint8Array, sig: Uint8Array) =>
    cat(u32(signed.length), signed, u32(sig.length), sig);
  const push = (chat: string, count: number, ...entries: Uint8Array[]) =>
    cat(u32(chat.length), te.encode(chat), u32(count), ...entries);
  const ok = entry(SIGNED, SIG);
  assert.equal(decodePushPage(push("d-ab", 1, ok)).entries.length, 1);
  const refused: Array<[string, Uint8Array]> = [
    ["no chat id", push("", 1, ok)],
    ["chat id of other characters", push("D-AB", 1, ok)],
    ["chat id over 64", push("a".repeat(65), 1, ok)],
    ["no entries", push("d-ab", 0)],
    ["count over the cap", push("d-ab", MAX_PUSH_ENTRIES + 1, ok)],
    ["count the bytes cannot hold", push("d-ab", 1000, ok)],
    ["count past the entries", push("d-ab", 2, ok, cat(u32(0), u32(0), u32(0), u32(0), u32(0)))],
    [
      "entry without the magic",
      push("d-ab", 1, entry(cat(u32(12), te.encode("roj-entry-v2")), SIG)),
    ],
    ["signature without the preamble", push("d-ab", 1, entry(SIGNED, te.encode("SSHSIh")))],
    ["empty signature", push("d-ab", 1, entry(SIGNED, new Uint8Array()))],
    [
      "entry over the cap",
      push("d-ab", 1, entry(cat(SIGNED, new Uint8Array(MAX_BULK_SIGNED)), SIG)),
    ],
    [
      "signature over the cap",
      push("d-ab", 1, entry(SIGNED, cat(SIG, new Uint8Array(MAX_BULK_SIG)))),
    ],
    ["a length past the end", push("d-ab", 1, cat(u32(0xffffffff), SIGNED))],
    ["a trailing byte", cat(push("d-ab", 1, ok), [0])],
    ["truncated", push("d-ab", 1, ok).subarray(0, 20)],
  ];
  for (const [what, bytes] of refused) {
    assert.throws(() => decodePushPage(bytes), (e) => isRojError(e, "bad_input"), what);
  }
  const box = (n: bigint, b: Uint8Array) => {
    const v = new DataView(new ArrayBuffer(8));
    v.setBigUint64(0, n);
    return cat(new Uint8Array(v.buffer), u32(b.length), b);
  };
  const mbox = (gen: Uint8Array, more: number, count: number, ...boxes: Uint8Array[]) =>
    cat(u32(gen.length), gen, [more], u32(count), ...boxes);
  const g = te.encode("gen");
  assert.equal(decodeMboxPage(mbox(g, 0, 1, box(1n, new Uint8Array([7])))).items.length, 1);
  const badPages: Array<[string, Uint8Array]> = [
    ["gen over 64 bytes", mbox(new Uint8Array(65).fill(0x61), 0, 0)],
    ["gen not UTF-8", mbox(new Uint8Array([0xff]), 0, 0)],
    ["more of 2", mbox(g, 2, 0)],
    ["count over the cap", mbox(g, 0, 1001)],
    ["box number 0", mbox(g, 0, 1, box(0n, new Uint8Array([7])))],
    ["box number past 2^53", mbox(g, 0, 1, box(2n ** 53n, new Uint8Array([7])))],
    ["empty box", mbox(g, 0, 1, box(1n, new Uint8Array()))],
    ["box over the cap", mbox(g, 0, 1, box(1n, new Uint8Array(MAX_BOX_BYTES + 1)))],
    ["a trailing byte", cat(mbox(g, 0, 1, box(1n, new Uint8Array([7]))), [0])],
    ["count past the boxes", mbox(g, 0, 2, box(1n, new Uint8Array([7])), new Uint8Array(13))],
  ];
  for (const [what, bytes] of badPages) {
    assert.throws(() => decodeMboxPage(bytes), (e) => isRojError(e, "bad_input"), what);
  }
});

Deno.test("binary request heads: a malformed one is a protocol error (the session closes)", () => {
  const head = (m: number[], rest: number[] = []) => {
    const body = [0x00, 0x71, 0, 0, 0, 0, 0, 0, 0, 1, ...m, ...rest];
    return cat(u32(body.length), body);
  };
  for (
    const [what, bytes] of [
      ["no method length", cat(u32(10), [0x00, 0x71, 0, 0, 0, 0, 0, 0, 0, 1])],
      ["an empty method", head([0])],
      ["a method past the frame", head([9, 0x61])],
      ["a method of other characters", head([2, 0x41, 0x2f])],
      ["an id past 2^53", cat(u32(12), [0x00, 0x71, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x61])],
    ] as const
  ) {
    assert.throws(() => new FrameDecoder().push(bytes), (e) => isRojError(e, "protocol"), what);
  }
});

/** A pipe that notes every frame sent through it. */
function tapped(pipe: Pipe, frames: Frame[]): Pipe {
  const decoder = new FrameDecoder();
  return new Proxy(pipe, {
    get(target, prop) {
      if (prop === "send") {
        return (data: Uint8Array) => {
          frames.push(...decoder.push(data));
          target.send(data);
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** A session pair; `a` lists `aFeatures`, `b` lists bulk1. Frames each side sends are noted. */
async function sessions(aFeatures: string[]) {
  const [pa, pb] = memoryPipePair();
  const fromA: Frame[] = [];
  const fromB: Frame[] = [];
  const a = new RpcSession(tapped(pa, fromA), { hello: { features: aFeatures, name: "a" } });
  const b = new RpcSession(tapped(pb, fromB), {
    hello: { features: ["sync1", "bulk1"], name: "b" },
  });
  await Promise.all([a.ready, b.ready]);
  const got: PushPage[] = [];
  b.handleBulk(
    "sync.push",
    (p) => (got.push(p), { heads: [], stored: p.entries.length, rejected: 0 }),
  );
  b.handleBulk("mbox.get", (p) => ({
    gen: "g",
    items: [{ n: p.after + 1, b: new Uint8Array([1, 2, 3]) }],
    more: false,
  }));
  return { a, b, fromA, fromB, got, close: () => (a.close(), b.close()) };
}

Deno.test("bulk1 on both sides: sync.push goes binary, mbox.get is answered binary", async () => {
  const s = await sessions(["sync1", "bulk1"]);
  const res = await s.a.requestBulk("sync.push", PAGE);
  assert.equal(res.stored, 1);
  assert.deepEqual(s.got, [PAGE]);
  const page = await s.a.requestBulk("mbox.get", { tag: "0".repeat(32), after: 4 });
  assert.deepEqual(page, {
    gen: "g",
    items: [{ n: 5, b: new Uint8Array([1, 2, 3]) }],
    more: false,
  });
  assert.deepEqual(s.fromA.map((f) => f.t), ["hello", "breq", "req"]);
  assert.deepEqual(s.fromB.map((f) => f.t), ["hello", "res", "bin"]);
  s.close();
});

Deno.test("an older peer (no bulk1) is sent JSON only, and its JSON calls are served", async () => {
  const s = await sessions(["sync1"]);
  // The older peer's own calls, as it makes them: plain JSON requests.
  const res = await s.a.request("sync.push", {
    chat: "d-ab",
    entries: [{ s: encodeB64(SIGNED), g: encodeB64(SIG) }],
  });
  assert.equal(res.stored, 1);
  assert.deepEqual(s.got, [PAGE], "the same page reaches the handler");
  const page = await s.a.request("mbox.get", { tag: "0".repeat(32), after: 0 });
  assert.deepEqual(page.items, [{ n: 1, b: "AQID" }], "boxes in base64");
  // And what the newer side pushes to it goes as JSON too.
  const got: PushPage[] = [];
  s.a.handleBulk("sync.push", (p) => (got.push(p), { heads: [], stored: 0, rejected: 0 }));
  await s.b.requestBulk("sync.push", PAGE);
  assert.deepEqual(got, [PAGE]);
  assert.deepEqual(s.fromB.map((f) => f.t), ["hello", "res", "res", "req"]);
  s.close();
});

Deno.test("a binary push that does not decode is answered bad_input, and the session stays up", async () => {
  const s = await sessions(["sync1", "bulk1"]);
  const noMagic = { chat: "d-ab", entries: [{ signed: new Uint8Array([1, 2, 3]), sig: SIG }] };
  await assert.rejects(
    () => s.a.requestBulk("sync.push", noMagic),
    (e) => isRojError(e, "bad_input"),
  );
  assert.deepEqual(s.got, [], "the handler never saw it");
  assert.equal((await s.a.requestBulk("sync.push", PAGE)).stored, 1);
  s.close();
});

Deno.test("binary frames own their bytes even when the chunk was a Node Buffer (ssh2 reuses those)", () => {
  const page = encodeMboxPage({
    gen: "g",
    items: [{ n: 1, b: new Uint8Array([9, 9, 9]) }],
    more: false,
  });
  for (
    const frame of [
      encodeFrame({ t: "bin", id: 1, bytes: page } as Frame),
      encodeFrame({ t: "breq", id: 2, m: "sync.push", bytes: encodePushPage(PAGE) }),
    ]
  ) {
    const chunk = Buffer.from(frame);
    const [f] = new FrameDecoder().push(chunk);
    const before = toHex((f as { bytes: Uint8Array }).bytes);
    chunk.fill(0); // what the SSH layer does to its buffer next
    assert.equal(toHex((f as { bytes: Uint8Array }).bytes), before);
  }
  // A page decoded from a Buffer view keeps copies, not views of it.
  const chunk = Buffer.from(page);
  const decoded = decodeMboxPage(chunk);
  chunk.fill(0);
  assert.deepEqual(decoded.items[0]!.b, new Uint8Array([9, 9, 9]));
});

Deno.test("a node that did not offer bulk1 closes a session that sends it a binary request (as an older node would)", async () => {
  const [pa, pb] = memoryPipePair();
  const a = new RpcSession(pa, { hello: { features: ["sync1"], name: "a" } });
  const b = new RpcSession(pb, { hello: { features: ["sync1", "bulk1"], name: "b" } });
  await Promise.all([a.ready, b.ready]);
  a.handleBulk("sync.push", () => ({ heads: [], stored: 0, rejected: 0 }));
  const closed = new Promise<string | undefined>((resolve) => a.onClose(resolve));
  pb.send(encodeFrame({ t: "breq", id: 1, m: "sync.push", bytes: encodePushPage(PAGE) }));
  assert.match((await closed) ?? "", /bulk1/);
  b.close();
});
