/**
 * The log's in-memory state (heads, recent entries) and its packed values
 * agree with the store, and stores written by schema 1 still read.
 */
import assert from "node:assert/strict";
import { createSigner, generateKeyPair, type Signer } from "../identity/mod.ts";
import { keys } from "../store/mod.ts";
import { tempStore } from "../_testing/temp.ts";
import { ChatLog, type Entry, toHex } from "./mod.ts";
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

Deno.test("a store written with schema-1 values reads, syncs and merges as before", async () => {
  await using t = await tempStore();
  const [a] = await signers(1);
  const made = await new ChatLog(t.store).appendMany(
    CHAT,
    a!,
    Array.from({ length: 5 }, (_, i) => ({ type: "msg", body: `m${i}` })),
  );
  // Rewrite the entries the way schema 1 stored them.
  const op = t.store.kv.atomic();
  for (const e of made) {
    const old = { signed: e.signed, sig: e.sig };
    op.set(keys.entry(CHAT, e.author, e.seq), old);
    op.set(keys.ordered(CHAT, e.lamport, e.author, e.seq), old);
  }
  await op.commit();
  const log = new ChatLog(t.store);
  assert.deepEqual((await log.read(CHAT)).map((e) => e.body), ["m0", "m1", "m2", "m3", "m4"]);
  assert.deepEqual(bytes(await log.entriesAfter(CHAT, a!.publicKey, 2)), bytes(made.slice(2)));
  assert.deepEqual(bytes(await log.rawEntriesAfter(CHAT, a!.publicKey, 2)), bytes(made.slice(2)));
  assert.deepEqual(seqs(await log.rawEntriesAfter(CHAT, a!.publicKey, 2)), [3, 4, 5]);
  const again = await log.merge(CHAT, made);
  assert.equal(again.duplicates, 5);
  const next = await log.append(CHAT, a!, "msg", "m5");
  assert.equal(next.seq, 6);
  assert.deepEqual(next.prev, made[4]!.hash);
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
