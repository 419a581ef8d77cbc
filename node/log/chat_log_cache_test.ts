/**
 * The log's in-memory state (heads, recent entries) and its packed values
 * agree with the store, and stores written by schema 1 still read.
 */
import assert from "node:assert/strict";
import { createSigner, generateKeyPair, type Signer } from "../identity/mod.ts";
import { keys, openStore, SCHEMA_VERSION } from "../store/mod.ts";
import { seededRandom, tempDir, tempStore, testSeed } from "../../testing/temp.ts";
import { ChatLog, compareEntries, type Entry, toHex } from "./mod.ts";
import { packEntry, unpackEntry } from "./stored_entry.ts";

const CHAT = "t-chat";

async function signers(n: number): Promise<Signer[]> {
  return await Promise.all(
    Array.from({ length: n }, async (_, i) => createSigner(await generateKeyPair(`a${i}`))),
  );
}

const bytes = (es: ReadonlyArray<{ signed: Uint8Array; sig: Uint8Array }>) =>
  es.map((e) => toHex(e.signed) + toHex(e.sig));
const seqs = (es: ReadonlyArray<{ seq: number }>) => es.map((e) => e.seq);

Deno.test("packed entry values round-trip; the objects of schema 1 still read; garbage does not", () => {
  const signed = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  const sig = Uint8Array.from({ length: 83 }, (_, i) => 255 - i);
  const packed = unpackEntry(packEntry(signed, sig));
  assert.deepEqual(packed, { signed, sig });
  assert.deepEqual(unpackEntry({ signed, sig }), { signed, sig });
  assert.deepEqual(unpackEntry(packEntry(new Uint8Array(0), sig)), {
    signed: new Uint8Array(0),
    sig,
  });
  for (
    const bad of [null, 7, "x", { signed }, new Uint8Array(3), new Uint8Array([2, 0, 0, 0, 0])]
  ) {
    assert.equal(unpackEntry(bad), null);
  }
  const long = packEntry(signed, sig);
  long[4] = 0xff; // claims more signed bytes than there are
  assert.equal(unpackEntry(long), null);
});

Deno.test("a schema-1 store is migrated on open and reads, syncs and merges as before", async () => {
  await using d = await tempDir();
  const path = `${d.path}/roj.kv`;
  const [a, b] = await signers(2);
  const made: Entry[] = [];
  {
    const store = await openStore(path);
    const log = new ChatLog(store);
    for (let i = 0; i < 6; i++) made.push(await log.append(CHAT, i % 3 ? a! : b!, "msg", `m${i}`));
    // Rewrite it the way schema 1 stored it: objects, and a copy by display order.
    const op = store.kv.atomic();
    for (const e of made) {
      const old = { signed: e.signed, sig: e.sig };
      op.set(keys.entry(CHAT, e.author, e.seq), old);
      op.set(keys.ordered(CHAT, e.lamport, e.author, e.seq), old);
    }
    op.set(keys.schema(), 1);
    await op.commit();
    store.close();
  }
  const store = await openStore(path);
  try {
    assert.equal((await store.kv.get(keys.schema())).value, SCHEMA_VERSION);
    assert.equal((await Array.fromAsync(store.kv.list({ prefix: keys.allOrdered() }))).length, 0);
    const log = new ChatLog(store);
    const bodies = ["m0", "m1", "m2", "m3", "m4", "m5"];
    assert.deepEqual((await log.read(CHAT)).map((e) => e.body), bodies);
    assert.deepEqual((await log.read(CHAT, { last: 4 })).map((e) => e.body), bodies.slice(2));
    const mine = made.filter((e) => e.author === a!.publicKey);
    assert.deepEqual(bytes(await log.entriesAfter(CHAT, a!.publicKey, 1)), bytes(mine.slice(1)));
    assert.deepEqual(bytes(await log.rawEntriesAfter(CHAT, a!.publicKey, 1)), bytes(mine.slice(1)));
    assert.deepEqual(seqs(await log.rawEntriesAfter(CHAT, a!.publicKey, 1)), [2, 3, 4]);
    assert.equal((await log.merge(CHAT, made)).duplicates, 6);
    const next = await log.append(CHAT, a!, "msg", "m6");
    assert.equal(next.seq, 5);
    assert.deepEqual(next.prev, mine.at(-1)!.hash);
  } finally {
    store.close();
  }
});

Deno.test("read and countNewer sort the authors' chains into display order", async () => {
  const seed = testSeed("display order");
  const rand = seededRandom(seed);
  await using t = await tempStore();
  const authors = await signers(4);
  const log = new ChatLog(t.store);
  const made: Entry[] = [];
  for (let i = 0; i < 80; i++) {
    const who = authors[Math.floor(rand() * authors.length)]!;
    made.push(...await log.appendMany(CHAT, who, [{ type: "msg", body: `m${i}` }]));
  }
  const want = made.slice().sort(compareEntries).map((e) => e.body);
  assert.deepEqual((await log.read(CHAT)).map((e) => e.body), want, `seed ${seed}`);
  for (const last of [1, 7, 80, 500]) {
    assert.deepEqual((await log.read(CHAT, { last })).map((e) => e.body), want.slice(-last));
  }
  const me = authors[0]!.publicKey;
  for (const mark of [0, 10, 40, 79, 80]) {
    const newer = made.filter((e) => e.lamport > mark && toHex(e.author) !== toHex(me));
    assert.equal(await log.countNewer(CHAT, mark, { except: me }), newer.length, `mark ${mark}`);
  }
  assert.equal(await log.countNewer(CHAT, 0, { limit: 5 }), 5);
});

Deno.test("heads and recent entries served from memory match what the store holds", async () => {
  await using t = await tempStore();
  const [a, b] = await signers(2);
  const log = new ChatLog(t.store);
  assert.equal((await log.heads(CHAT)).size, 0);
  const written: Entry[] = [];
  for (let round = 0; round < 30; round++) {
    const who = round % 3 === 0 ? b! : a!;
    written.push(...await log.appendMany(CHAT, who, [{ type: "msg", body: `r${round}` }]));
    if (round % 10 === 9) {
      // Someone else's entries arrive by merge, in a batch larger than what is kept in memory.
      await using scratch = await tempStore();
      const other = new ChatLog(scratch.store);
      const [c] = await signers(1);
      const theirs = await other.appendMany(
        CHAT,
        c!,
        Array.from({ length: 40 }, (_, i) => ({ type: "msg", body: `c${round}-${i}` })),
      );
      assert.equal((await log.merge(CHAT, theirs)).stored.length, 40);
      written.push(...theirs);
    }
  }
  const fresh = new ChatLog(t.store); // reads only the store
  const cached = await log.heads(CHAT);
  const stored = await fresh.heads(CHAT);
  assert.equal(cached.size, 5);
  for (const [k, h] of stored) {
    assert.equal(cached.get(k)?.seq, h.seq);
    assert.deepEqual(cached.get(k)?.hash, h.hash);
    assert.deepEqual(cached.get(k)?.author, h.author);
  }
  for (const [k, h] of stored) {
    for (const after of [0, 1, h.seq - 3, h.seq - 1, h.seq]) {
      if (after < 0) continue;
      for (const limit of [1, 2, 1000]) {
        const want = await fresh.entriesAfter(CHAT, h.author, after, limit);
        const got = await log.entriesAfter(CHAT, h.author, after, limit);
        assert.deepEqual(bytes(got), bytes(want), `${k.slice(0, 8)} after ${after}`);
        assert.deepEqual(seqs(got), seqs(want));
        const raw = await log.rawEntriesAfter(CHAT, h.author, after, limit);
        assert.deepEqual(bytes(raw), bytes(want));
        assert.deepEqual(seqs(raw), seqs(want));
      }
    }
  }
});

Deno.test("another writer on the same store is noticed: no fork, and heads are read again", async () => {
  await using t = await tempStore();
  const [a] = await signers(1);
  const mine = new ChatLog(t.store);
  const other = new ChatLog(t.store); // as another process would
  await mine.append(CHAT, a!, "msg", "one");
  await other.append(CHAT, a!, "msg", "two");
  const three = await mine.append(CHAT, a!, "msg", "three");
  assert.equal(three.seq, 3, "the stale head was refused and read again");
  assert.equal((await mine.heads(CHAT)).get(toHex(a!.publicKey))?.seq, 3);
  assert.deepEqual(
    (await mine.entriesAfter(CHAT, a!.publicKey, 0)).map((e) => e.body),
    ["one", "two", "three"],
  );
  assert.deepEqual((await new ChatLog(t.store).read(CHAT)).map((e) => e.body), [
    "one",
    "two",
    "three",
  ]);
});
