/** fetchFile against a holder that misbehaves, over a real chunk store on disk. */
import assert from "node:assert/strict";
import { RojError } from "../errors.ts";
import { encodeB64 } from "../protocol/mod.ts";
import { tempDir } from "../../testing/temp.ts";
import { ChunkStore } from "./chunk_store.ts";
import { fetchFile, type Holder } from "./file_fetch.ts";
import type { FileManifest } from "./manifest.ts";
import { answered, asked, nextRequests, startTransfer } from "./transfer_plan.ts";

const CHUNK = 16 * 1024;

/** A sender's store with one file of `size` bytes, and its manifest. */
async function sender(
  dir: string,
  size: number,
): Promise<{ store: ChunkStore; m: FileManifest; bytes: Uint8Array }> {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
  await Deno.writeFile(`${dir}/in.bin`, bytes);
  const store = await ChunkStore.open(`${dir}/s`);
  const imp = await store.importFile(`${dir}/in.bin`, () => {}, CHUNK);
  return {
    store,
    bytes,
    m: {
      v: 1,
      name: "in.bin",
      size,
      type: "application/octet-stream",
      chunk: CHUNK,
      root: imp.root,
    },
  };
}

/** A holder serving from `store`, with `tamper` deciding per request what goes wrong. */
function holder(
  store: ChunkStore,
  root: string,
  tamper: (index: number, n: number, bytes: Uint8Array) => Uint8Array | Error | null = () => null,
): Holder & { asked: number[] } {
  const asked: number[] = [];
  const count = new Map<number, number>();
  return {
    asked,
    // deno-lint-ignore no-explicit-any
    request: (async (m: string, p: any) => {
      const list = (await store.list(root))!;
      if (m === "files.list") {
        return { hashes: encodeB64(list.subarray(p.from * 32, (p.from + p.count) * 32)) };
      }
      asked.push(p.index);
      const n = (count.get(p.index) ?? 0) + 1;
      count.set(p.index, n);
      const bytes = await store.read(list.subarray(p.index * 32, p.index * 32 + 32));
      const t = tamper(p.index, n, bytes);
      if (t instanceof Error) throw t;
      return { b: t ?? bytes };
    }) as Holder["request"],
  };
}

const hooks = () => {
  const bad: number[] = [];
  return { bad, progress: () => {}, badChunk: (i: number) => bad.push(i) };
};

async function assembled(store: ChunkStore, m: FileManifest): Promise<Uint8Array> {
  const list = (await store.list(m.root))!;
  const parts: Uint8Array[] = [];
  for (let i = 0; i * 32 < list.length; i++) {
    parts.push(await store.read(list.subarray(i * 32, i * 32 + 32)));
  }
  const out = new Uint8Array(m.size);
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.length);
  return out;
}

Deno.test("a chunk that fails its hash is refused, asked again, and the file completes", async () => {
  await using dir = await tempDir();
  const { store, m, bytes } = await sender(dir.path, 5 * CHUNK + 100);
  const recv = await ChunkStore.open(`${dir.path}/r`);
  const h = holder(store, m.root, (i, n, b) => (i === 2 && n === 1 ? b.map((x) => x ^ 1) : null));
  const k = hooks();
  const out = await fetchFile(m, recv, h, k);
  assert.equal(out.kind, "complete");
  assert.deepEqual(k.bad, [2]);
  assert.equal(h.asked.filter((i) => i === 2).length, 2);
  assert.deepEqual(await assembled(recv, m), bytes);
});

Deno.test("a chunk of the wrong length is refused like a bad hash; three times and the holder is given up", async () => {
  await using dir = await tempDir();
  const { store, m } = await sender(dir.path, 3 * CHUNK);
  const recv = await ChunkStore.open(`${dir.path}/r`);
  const h = holder(store, m.root, (i, _n, b) => (i === 1 ? new Uint8Array([...b, 0]) : null));
  const out = await fetchFile(m, recv, h, hooks());
  assert.equal(out.kind, "failed");
  assert.match((out as { reason: string }).reason, /chunk 1 failed its check 3 times/);
  assert.deepEqual(await recv.held((await recv.list(m.root))!), [true, false, true]);
});

Deno.test("a size that lies: the list matches no root, and nothing is asked for", async () => {
  await using dir = await tempDir();
  const { store, m } = await sender(dir.path, 3 * CHUNK);
  const recv = await ChunkStore.open(`${dir.path}/r`);
  const h = holder(store, m.root);
  for (const size of [2 * CHUNK, 3 * CHUNK - 1, 3 * CHUNK + 1]) {
    const out = await fetchFile({ ...m, size }, recv, h, hooks());
    assert.equal(out.kind, "failed", String(size));
    assert.match((out as { reason: string }).reason, /chunk list/);
  }
  assert.deepEqual(h.asked, []);
  assert.equal(await recv.list(m.root), null, "no list kept that does not match");
});

Deno.test("chunks that never come: interrupted with what is held, and a later fetch asks only for the rest", async () => {
  await using dir = await tempDir();
  const { store, m, bytes } = await sender(dir.path, 20 * CHUNK);
  const recv = await ChunkStore.open(`${dir.path}/r`);
  const gone = holder(
    store,
    m.root,
    (i) => i >= 10 ? new RojError("timeout", "files.get got no answer", { retryable: true }) : null,
  );
  const first = await fetchFile(m, recv, gone, hooks(), 4);
  assert.equal(first.kind, "interrupted");
  const held = await recv.held((await recv.list(m.root))!);
  const had = held.filter(Boolean).length;
  assert.ok(had >= 10 && had < 20, `held ${had}`);
  const back = holder(store, m.root);
  const second = await fetchFile(m, recv, back, hooks(), 4);
  assert.equal(second.kind, "complete");
  assert.equal(back.asked.length, 20 - had, "only the missing chunks");
  assert.equal(second.fetched, (20 - had) * CHUNK);
  assert.deepEqual(await assembled(recv, m), bytes);
});

Deno.test("the plan: lowest missing first, a window, three tries", () => {
  let s = startTransfer([true, false, false, true, false]);
  assert.deepEqual(nextRequests(s, 2), [1, 2]);
  s = asked(s, [1, 2]);
  assert.deepEqual(nextRequests(s, 2), []);
  assert.deepEqual(nextRequests(s, 3), [4]);
  let o = answered(s, 1, false);
  assert.equal(o.kind, "retry");
  assert.deepEqual(nextRequests(o.state, 2), [1]);
  o = answered(asked(o.state, [1]), 1, false);
  o = answered(asked(o.state, [1]), 1, false);
  assert.equal(o.kind, "give-up");
  o = answered(s, 2, true);
  assert.equal(o.kind, "stored");
  assert.deepEqual(o.state.held, [true, false, true, true, false]);
});

Deno.test("the store: 0700 folders, 0600 chunks, nothing under a final name unverified, torn copies dropped", async () => {
  await using dir = await tempDir();
  const store = await ChunkStore.open(dir.path);
  assert.equal((await Deno.stat(`${dir.path}/files`)).mode! & 0o777, 0o700);
  const bytes = new Uint8Array([1, 2, 3]);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  assert.equal(await store.put(hash, new Uint8Array([1, 2, 4])), false);
  assert.equal(await store.has(hash), false);
  assert.equal(await store.put(hash, bytes), true);
  assert.equal(await store.has(hash), true);
  let path = "";
  for await (const d of Deno.readDir(`${dir.path}/files/chunks`)) {
    for await (const c of Deno.readDir(`${dir.path}/files/chunks/${d.name}`)) {
      path = `${dir.path}/files/chunks/${d.name}/${c.name}`;
    }
  }
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  await Deno.writeFile(path, new Uint8Array([9]));
  await assert.rejects(() => store.read(hash), /damaged/);
  assert.equal(await store.has(hash), false);
  // A crash's temporary file is swept at the next open.
  await Deno.writeFile(`${path}.tmp1-0`, bytes);
  await ChunkStore.open(dir.path);
  await assert.rejects(() => Deno.stat(`${path}.tmp1-0`), Deno.errors.NotFound);
});
