import assert from "node:assert/strict";
import { createSigner, createVerifier, generateKeyPair, type Signer } from "../identity/mod.ts";
import { keys } from "../store/mod.ts";
import { seededRandom, shuffle, tempStore, testSeed } from "../../testing/temp.ts";
import {
  ChatLog,
  compareEntries,
  createEntry,
  type Ed25519Verifier,
  type Entry,
  toHex,
} from "./mod.ts";
import { isRojError } from "../errors.ts";
import { FakeClock } from "../clock/mod.ts";
import { unpackEntry } from "./stored_entry.ts";

const CHAT = "t-chat";

async function signers(n: number): Promise<Signer[]> {
  return await Promise.all(
    Array.from({ length: n }, async (_, i) => createSigner(await generateKeyPair(`a${i}`))),
  );
}

/** Builds a realistic history: authors take turns, each seeing everything before it. */
async function history(authors: Signer[], count: number, rand: () => number): Promise<Entry[]> {
  const heads = new Map<Signer, Entry>();
  let clock = 0;
  const out: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const s = authors[Math.floor(rand() * authors.length)]!;
    const head = heads.get(s);
    // Sometimes an author has not seen the latest entries: concurrent writes.
    clock = rand() < 0.3 ? Math.max(head?.lamport ?? 0, clock - 2) + 1 : clock + 1;
    const lamport = Math.max(clock, (head?.lamport ?? 0) + 1);
    clock = Math.max(clock, lamport);
    const e = await createEntry(s, {
      chat: CHAT,
      author: s.publicKey,
      seq: (head?.seq ?? 0) + 1,
      prev: head?.hash ?? null,
      lamport,
      ts: 1_700_000_000_000 + i,
      type: "msg",
      body: `m${i}`,
    });
    heads.set(s, e);
    out.push(e);
  }
  return out;
}

const raw = (e: Entry) => ({ signed: e.signed, sig: e.sig });

Deno.test("append assigns seq, prev and Lamport, and read returns display order", async () => {
  await using t = await tempStore();
  const [a, b] = await signers(2);
  const log = new ChatLog(t.store);
  const e1 = await log.append(CHAT, a!, "msg", "one");
  const e2 = await log.append(CHAT, b!, "msg", "two");
  const e3 = await log.append(CHAT, a!, "msg", "three");
  assert.equal(e1.seq, 1);
  assert.equal(e1.prev, null);
  assert.equal(e3.seq, 2);
  assert.deepEqual(e3.prev, e1.hash);
  assert.ok(e2.lamport > e1.lamport && e3.lamport > e2.lamport);
  assert.deepEqual((await log.read(CHAT)).map((e) => e.body), ["one", "two", "three"]);
  assert.deepEqual((await log.read(CHAT, { last: 2 })).map((e) => e.body), ["two", "three"]);
  const heads = await log.heads(CHAT);
  assert.equal(heads.get(toHex(a!.publicKey))?.seq, 2);
});

Deno.test("an appended entry is in the KV file when append resolves", async () => {
  await using t = await tempStore();
  const [a] = await signers(1);
  const e = await new ChatLog(t.store).append(CHAT, a!, "msg", "durable");
  const other = await Deno.openKv(t.store.path);
  try {
    const got = await other.get(keys.entry(CHAT, a!.publicKey, 1));
    assert.ok(got.value !== null);
    assert.deepEqual(unpackEntry(got.value)?.signed, e.signed);
  } finally {
    other.close();
  }
});

Deno.test("merge rejects with a reason: bad signature, wrong chat, gap, wrong prev", async () => {
  await using t = await tempStore();
  const [a] = await signers(1);
  const entries = await history([a!], 3, seededRandom(1));
  const log = new ChatLog(t.store);

  const forged = raw(entries[0]!);
  const sig = forged.sig.slice();
  sig[sig.length - 5]! ^= 1;
  let r = await log.merge(CHAT, [{ signed: forged.signed, sig }]);
  assert.deepEqual(r.rejected.map((x) => x.code), ["bad_signature"]);

  r = await log.merge("other-chat", [raw(entries[0]!)]);
  assert.deepEqual(r.rejected.map((x) => x.code), ["wrong_chat"]);

  r = await log.merge(CHAT, [raw(entries[1]!)]);
  assert.deepEqual(r.rejected.map((x) => x.code), ["seq_gap"]);

  r = await log.merge(CHAT, [raw(entries[0]!)]);
  assert.equal(r.stored.length, 1);
  // seq 2 whose prev points elsewhere.
  const wrongPrev = await createEntry(a!, { ...entries[1]!, prev: new Uint8Array(32) });
  r = await log.merge(CHAT, [raw(wrongPrev)]);
  assert.deepEqual(r.rejected.map((x) => x.code), ["prev_mismatch"]);

  r = await log.merge(CHAT, [{ signed: new Uint8Array([1, 2, 3]), sig: entries[0]!.sig }]);
  assert.deepEqual(r.rejected.map((x) => x.code), ["bad_input"]);
  assert.equal((await log.read(CHAT)).length, 1, "nothing else was stored");
});

Deno.test("equivocation: the first entry is kept and the second remembered", async () => {
  await using t = await tempStore();
  const [a] = await signers(1);
  const log = new ChatLog(t.store);
  const first = await log.append(CHAT, a!, "msg", "first");
  const twin = await createEntry(a!, { ...first, body: "twin" });
  const r = await log.merge(CHAT, [raw(twin)]);
  assert.deepEqual(r.rejected.map((x) => x.code), ["equivocation"]);
  assert.deepEqual((await log.read(CHAT)).map((e) => e.body), ["first"]);
  assert.deepEqual((await log.conflicts(CHAT)).map((e) => e.body), ["twin"]);
});

Deno.test("merge is idempotent", async () => {
  await using t = await tempStore();
  const [a, b] = await signers(2);
  const entries = await history([a!, b!], 20, seededRandom(2));
  const log = new ChatLog(t.store);
  const first = await log.merge(CHAT, entries.map(raw));
  assert.equal(first.stored.length, 20);
  const again = await log.merge(CHAT, entries.map(raw));
  assert.equal(again.stored.length, 0);
  assert.equal(again.duplicates, 20);
  assert.equal(again.rejected.length, 0);
});

Deno.test("randomised merge: any order and batching gives the same stored set and order", async () => {
  const seed = testSeed("randomised merge");
  const rand = seededRandom(seed);
  const authors = await signers(4);
  const entries = await history(authors, 120, rand);
  const expected = entries.slice().sort(compareEntries).map((e) => toHex(e.hash));
  for (let round = 0; round < 6; round++) {
    await using t = await tempStore();
    const log = new ChatLog(t.store);
    let pending = shuffle(entries, rand);
    // Deliver in random batches; what arrived too early is delivered again later, as sync does.
    for (let pass = 0; pending.length > 0; pass++) {
      assert.ok(pass < 500, "merge reached a fixpoint");
      const size = 1 + Math.floor(rand() * 30);
      const batch = pending.slice(0, size);
      const res = await log.merge(CHAT, [
        ...batch.map(raw),
        ...(rand() < 0.3 ? batch.slice(0, 2).map(raw) : []),
      ]);
      const gaps = new Set(res.rejected.map((x) => `${toHex(x.author!)}/${x.seq}`));
      assert.ok(
        res.rejected.every((x) => x.code === "seq_gap"),
        `seed ${seed}: only gaps expected`,
      );
      pending = shuffle([
        ...pending.slice(size),
        ...batch.filter((e) => gaps.has(`${toHex(e.author)}/${e.seq}`)),
      ], rand);
    }
    const got = (await log.read(CHAT)).map((e) => toHex(e.hash));
    assert.deepEqual(got, expected, `seed ${seed} round ${round}`);
  }
});

Deno.test("a damaged value in the store is a clear store_corrupt error", async () => {
  await using t = await tempStore();
  const [a] = await signers(1);
  const log = new ChatLog(t.store);
  const e = await log.append(CHAT, a!, "msg", "x");
  await t.store.kv.set(keys.entry(CHAT, a!.publicKey, e.seq), {
    signed: new Uint8Array([9, 9]),
    sig: new Uint8Array(),
  });
  await assert.rejects(
    () => new ChatLog(t.store).read(CHAT),
    (err) => isRojError(err, "store_corrupt"),
  );
  await t.store.kv.set(keys.head(CHAT, a!.publicKey), "garbage");
  await assert.rejects(
    () => new ChatLog(t.store).append(CHAT, a!, "msg", "y"),
    (err) => isRojError(err, "store_corrupt"),
  );
});

Deno.test("merge: entries held already count as duplicates before any signature check; others are still verified", async () => {
  await using t = await tempStore();
  const [a, b] = await signers(2);
  // More than one merge step, and more than an author's tail in memory.
  const entries = await history([a!, b!], 1200, seededRandom(3));
  const real = createVerifier();
  let checks = 0;
  const counting: Ed25519Verifier = {
    verify: (p, s, d) => real.verify(p, s, d),
    verifySync: (p, s, d) => {
      checks++;
      return real.verifySync!(p, s, d);
    },
  };
  const log = new ChatLog(t.store, { verifier: counting });
  assert.equal((await log.merge(CHAT, entries.map(raw))).stored.length, 1200);
  assert.equal(checks, 1200);

  checks = 0;
  const again = await log.merge(CHAT, shuffle(entries.map(raw), seededRandom(4)));
  assert.deepEqual([again.stored.length, again.duplicates, again.rejected.length], [0, 1200, 0]);
  assert.equal(checks, 0, "held entries were not verified again");

  // A log opened afresh on the same store: what is not in memory is looked up in the store.
  const cold = new ChatLog(t.store, { verifier: counting });
  await cold.heads(CHAT);
  checks = 0;
  const fromStore = await cold.merge(CHAT, entries.map(raw));
  assert.deepEqual([fromStore.stored.length, fromStore.duplicates], [0, 1200]);
  assert.equal(checks, 0);

  // Anything else in a held place is checked: a held entry with another signature is
  // refused as forged, a different entry signed by its author kept aside as a twin.
  const mine = entries.find((e) => toHex(e.author) === toHex(a!.publicKey))!;
  const twin = await createEntry(a!, { ...mine, body: "twin" });
  const forgedSig = mine.sig.slice();
  forgedSig[forgedSig.length - 5]! ^= 1;
  checks = 0;
  const r = await log.merge(CHAT, [raw(twin), { signed: mine.signed, sig: forgedSig }]);
  assert.equal(checks, 2);
  assert.deepEqual(r.rejected.map((x) => x.code).sort(), ["bad_signature", "equivocation"]);
  assert.equal(r.stored.length, 0);
});

Deno.test("appended entries carry the time of the clock given", async () => {
  await using t = await tempStore();
  const [a] = await signers(1);
  const clock = new FakeClock({ start: 1_750_000_000_000 });
  const log = new ChatLog(t.store, { clock });
  assert.equal((await log.append(CHAT, a!, "msg", "one")).ts, 1_750_000_000_000);
  await clock.advance(1234);
  const [e2, e3] = await log.appendMany(CHAT, a!, [{ type: "msg", body: "two" }, {
    type: "msg",
    body: "three",
  }]);
  assert.deepEqual([e2!.ts, e3!.ts], [1_750_000_001_234, 1_750_000_001_234]);
});
