import assert from "node:assert/strict";
import { createSigner, generateKeyPair, type Signer } from "../identity/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import { tempStore } from "../../testing/temp.ts";
import { ChatLog, createEntry, type Entry, type Fork, toHex } from "./mod.ts";

const CHAT = "t-forks";
const raw = (e: Entry) => ({ signed: e.signed, sig: e.sig });

/** A chain of `n` entries by `s`, each one clock above the last. */
async function chain(s: Signer, n: number, from = 1): Promise<Entry[]> {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const prev = out.at(-1);
    out.push(
      await createEntry(s, {
        chat: CHAT,
        author: s.publicKey,
        seq: i + 1,
        prev: prev?.hash ?? null,
        lamport: from + i,
        ts: 1_700_000_000_000 + i,
        type: "msg",
        body: `m${i + 1}`,
      }),
    );
  }
  return out;
}

/** A different entry for the place of `e`. */
const twinOf = (s: Signer, e: Entry, body: string) => createEntry(s, { ...e, body });

/** Bytes the store holds in keys and values: what an attacker could make it grow by. */
async function storeBytes(store: Store): Promise<number> {
  const size = (v: unknown): number => {
    if (v instanceof Uint8Array) return v.length;
    if (typeof v === "string") return v.length;
    if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return 8;
    if (Array.isArray(v)) return v.reduce((n: number, x) => n + size(x), 0);
    if (v && typeof v === "object") {
      return Object.entries(v).reduce((n, [k, x]) => n + k.length + size(x), 0);
    }
    return 0;
  };
  let n = 0;
  for await (const res of store.kv.list<unknown>({ prefix: [] })) {
    n += size(res.key) + size(res.value);
  }
  return n;
}

Deno.test("3,000 twins from one author keep one fork, told once, and the store grows by < 4 KiB", async () => {
  await using t = await tempStore();
  const mallory = await createSigner(await generateKeyPair("mallory"));
  const seen: Fork[] = [];
  const log = new ChatLog(t.store, { now: () => 1_700_000_123_000, onFork: (f) => seen.push(f) });
  const honest = await chain(mallory, 10);
  assert.equal((await log.merge(CHAT, honest.map(raw))).stored.length, 10);
  const before = await storeBytes(t.store);

  const twins: Entry[] = [];
  for (let i = 0; i < 3000; i++) {
    twins.push(await twinOf(mallory, honest[i % 10]!, `twin ${i} ${"x".repeat(200)}`));
  }
  let refused = 0;
  for (let i = 0; i < twins.length; i += 1000) {
    const r = await log.merge(CHAT, twins.slice(i, i + 1000).map(raw));
    assert.equal(r.stored.length, 0);
    assert.ok(r.rejected.every((x) => x.code === "equivocation"));
    refused += r.rejected.length;
  }
  assert.equal(refused, 3000, "every twin is refused with a reason");

  const forks = await log.forks(CHAT);
  assert.equal(forks.length, 1, "one fork per author and chat");
  const f = forks[0]!;
  assert.equal(f.seq, 1);
  assert.deepEqual(f.kept, honest[0]!.hash);
  assert.deepEqual(f.twin.hash, twins[0]!.hash);
  assert.equal(toHex(f.author), toHex(mallory.publicKey));
  assert.equal(f.seen, 1_700_000_123_000);
  assert.equal(seen.length, 1, "told once");
  assert.deepEqual(seen[0]!.twin.hash, f.twin.hash);
  assert.deepEqual((await log.conflicts(CHAT)).map((e) => e.hash), [twins[0]!.hash]);
  assert.deepEqual((await log.read(CHAT)).map((e) => e.body), honest.map((e) => e.body));

  const grown = (await storeBytes(t.store)) - before;
  assert.ok(grown < 4096, `the store grew by ${grown} bytes`);

  // A new log on the same store (a restart) still knows the fork and takes no more of it.
  const again = new ChatLog(t.store, { onFork: (f) => seen.push(f) });
  const r = await again.merge(CHAT, [raw(await twinOf(mallory, honest[3]!, "after restart"))]);
  assert.deepEqual(r.rejected.map((x) => x.code), ["equivocation"]);
  assert.equal((await again.forks(CHAT)).length, 1);
  assert.equal(seen.length, 1);
  // The author's honest chain goes on.
  const next = await createEntry(mallory, {
    ...honest[9]!,
    seq: 11,
    prev: honest[9]!.hash,
    lamport: 11,
    body: "m11",
  });
  assert.equal((await again.merge(CHAT, [raw(next)])).stored.length, 1);
});

Deno.test("forks: one per author, each author's first; a twin in a batch refused whole still counts", async () => {
  await using t = await tempStore();
  const [a, b] = await Promise.all(
    ["a", "b"].map(async (n) => createSigner(await generateKeyPair(n))),
  );
  const seen: Fork[] = [];
  const log = new ChatLog(t.store, { onFork: (f) => seen.push(f) });
  const ca = await chain(a!, 3);
  const cb = await chain(b!, 3, 10);
  await log.merge(CHAT, [...ca, ...cb].map(raw));
  // Two twins of a's in one merge: the first is the one on record.
  const a2 = await twinOf(a!, ca[1]!, "a twin 2");
  const a3 = await twinOf(a!, ca[2]!, "a twin 3");
  await log.merge(CHAT, [raw(a2), raw(a3)]);
  // b's twin comes with an entry that cannot be stored: nothing is, but the fork is evidence.
  const b1 = await twinOf(b!, cb[0]!, "b twin");
  const r = await log.merge(CHAT, [raw(b1), raw(ca[0]!)], { allOrNothing: true });
  assert.equal(r.stored.length, 0);
  const forks = await log.forks(CHAT);
  assert.equal(forks.length, 2);
  const byAuthor = new Map(forks.map((f) => [toHex(f.author), f]));
  assert.deepEqual(byAuthor.get(toHex(a!.publicKey))?.twin.hash, a2.hash);
  assert.deepEqual(byAuthor.get(toHex(b!.publicKey))?.kept, cb[0]!.hash);
  assert.equal(seen.length, 2);
});

Deno.test("forks: a store from before the bound has its twins folded into one record per author", async () => {
  await using t = await tempStore();
  const a = await createSigner(await generateKeyPair("a"));
  const honest = await chain(a, 5);
  await new ChatLog(t.store).merge(CHAT, honest.map(raw));
  // What the unbounded log wrote: every twin under its own key.
  for (let i = 0; i < 50; i++) {
    const tw = await twinOf(a, honest[4 - (i % 5)]!, `old twin ${i}`);
    await t.store.kv.set(keys.conflict(CHAT, tw.author, tw.seq, tw.hash), raw(tw));
  }
  const log = new ChatLog(t.store);
  const forks = await log.forks(CHAT);
  assert.equal(forks.length, 1);
  assert.equal(forks[0]!.seq, 1, "the first in key order");
  assert.deepEqual(forks[0]!.kept, honest[0]!.hash);
  let left = 0;
  for await (const _ of t.store.kv.list({ prefix: keys.conflicts(CHAT) })) left++;
  assert.equal(left, 0, "the old rows are gone");
});
