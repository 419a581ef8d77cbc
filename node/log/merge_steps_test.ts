/**
 * Large merges go in steps (the next step's signatures are checked while the
 * store writes the last); the result must be that of one big step, with the
 * in-thread verifier and with a worker pool.
 */
import assert from "node:assert/strict";
import {
  createSigner,
  createVerifier,
  createVerifierPool,
  generateKeyPair,
  type Signer,
} from "../identity/mod.ts";
import { seededRandom, shuffle, tempStore, testSeed } from "../../testing/temp.ts";
import { ChatLog, compareEntries, createEntry, type Entry, type RawEntry, toHex } from "./mod.ts";

const CHAT = "steps-chat";
const raw = (e: Entry): RawEntry => ({ signed: e.signed, sig: e.sig });

/** Each author's chain of `perAuthor` entries, clocks interleaved. */
async function chains(authors: Signer[], perAuthor: number): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const [a, s] of authors.entries()) {
    let prev: Entry | null = null;
    for (let seq = 1; seq <= perAuthor; seq++) {
      const e: Entry = await createEntry(s, {
        chat: CHAT,
        author: s.publicKey,
        seq,
        prev: prev?.hash ?? null,
        lamport: seq * authors.length + a,
        ts: 1_700_000_000_000 + seq,
        type: "msg",
        body: `author ${a} entry ${seq}`,
      });
      out.push(e);
      prev = e;
    }
  }
  return out;
}

for (const mode of ["in-thread", "pool"] as const) {
  Deno.test(`a large shuffled merge stores as one step would (${mode} verifier)`, async () => {
    const seed = testSeed(`merge steps ${mode}`);
    const rand = seededRandom(seed);
    const authors = await Promise.all(
      [0, 1, 2].map(async (i) => createSigner(await generateKeyPair(`s${i}`))),
    );
    const all = await chains(authors, 300);
    const [a0, a1] = [toHex(authors[0]!.publicKey), toHex(authors[1]!.publicKey)];
    // Author 1 misses entry 200, so its 201..300 are gaps.
    const missing = all.find((e) => toHex(e.author) === a1 && e.seq === 200)!;
    const batch = all.filter((e) => e !== missing).map(raw);
    // Already stored before: author 0's first 50, sent again as duplicates.
    const early = all.filter((e) => toHex(e.author) === a0 && e.seq <= 50);
    // A twin of author 0's stored entry 30, a forged signature, an entry of another chat.
    const twin = await createEntry(authors[0]!, {
      ...all.find((e) => toHex(e.author) === a0 && e.seq === 30)!,
      body: "twin",
    });
    const forged = raw(all.find((e) => toHex(e.author) === a0 && e.seq === 10)!);
    const sig = forged.sig.slice();
    sig[sig.length - 1]! ^= 1;
    const other = await createEntry(authors[2]!, { ...all.at(-1)!, chat: "other-chat" });
    batch.push(raw(twin), { signed: forged.signed, sig }, raw(other));

    await using t = await tempStore();
    const pool = mode === "pool" ? createVerifierPool({ size: 2, minBatch: 16 }) : null;
    try {
      const log = new ChatLog(t.store, { verifier: pool ?? createVerifier() });
      assert.equal((await log.merge(CHAT, early.map(raw))).stored.length, 50);
      // That batch started the workers (and was checked here while they start).
      for (let i = 0; pool && pool.ready < 2; i++) {
        assert.ok(i < 2000, "the pool's workers started");
        await new Promise((r) => setTimeout(r, 10));
      }
      const res = await log.merge(CHAT, shuffle(batch, rand));
      if (pool) assert.ok(pool.offloaded > 0, "the workers checked the later steps");

      const codes = res.rejected.map((r) => r.code).sort();
      assert.deepEqual(
        codes,
        [
          "bad_signature",
          "equivocation",
          "wrong_chat",
          ...Array(100).fill("seq_gap"),
        ].sort(),
        `seed ${seed}`,
      );
      assert.equal(res.duplicates, 50);
      assert.equal(res.stored.length, 900 - 1 - 100 - 50);
      const expected = all.filter((e) => !(toHex(e.author) === a1 && e.seq >= 200))
        .sort(compareEntries).map((e) => toHex(e.hash));
      assert.deepEqual((await log.read(CHAT)).map((e) => toHex(e.hash)), expected);
      assert.deepEqual((await log.conflicts(CHAT)).map((e) => e.body), ["twin"]);
      const heads = await log.heads(CHAT);
      assert.deepEqual([...heads.values()].map((h) => h.seq).sort((x, y) => x - y), [
        199,
        300,
        300,
      ]);

      // The gap filled: the rest follows in one more merge.
      const rest = await log.merge(CHAT, [missing, ...all.filter((e) => e.seq > 200)].map(raw));
      assert.equal(rest.stored.length, 101);
    } finally {
      pool?.close();
    }
  });
}
