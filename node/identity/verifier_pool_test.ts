import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { generateKeyPair } from "./keys.ts";
import { createSigner, createVerifier } from "./signer.ts";
import { createVerifierPool, type Ed25519Check, type VerifierPool } from "./verifier_pool.ts";

/** `n` checks by two keys, every third one broken in a different way. */
async function checks(n: number): Promise<Ed25519Check[]> {
  const signers = await Promise.all(
    ["a", "b"].map(async (name) => createSigner(await generateKeyPair(name))),
  );
  return await Promise.all(Array.from({ length: n }, async (_, i) => {
    const s = signers[i % 2]!;
    const data = new TextEncoder().encode(`message ${i} `.repeat(1 + (i % 7)));
    const signature = await s.sign(data);
    if (i % 3 !== 0) return { publicKey: s.publicKey, signature, data };
    switch (i % 4) {
      case 0:
        return { publicKey: s.publicKey, signature, data: data.subarray(1) };
      case 1:
        return { publicKey: signers[(i + 1) % 2]!.publicKey, signature, data };
      case 2:
        return { publicKey: s.publicKey, signature: signature.subarray(1), data };
      default:
        return { publicKey: s.publicKey.subarray(1), signature, data };
    }
  }));
}

async function waitReady(pool: VerifierPool, n: number): Promise<void> {
  const until = Date.now() + 20_000;
  while (pool.ready < n) {
    assert.ok(Date.now() < until, "the workers started");
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("a verifier pool answers as the in-thread verifier does, on workers", async () => {
  const all = await checks(300);
  const local = createVerifier();
  const want = all.map((c) => local.verifySync(c.publicKey, c.signature, c.data));
  assert.ok(want.includes(true) && want.includes(false));
  using pool = createVerifierPool({ size: 2, minBatch: 16 });
  assert.equal(pool.threads, 0, "workers start with the first large batch");
  // While they start, batches are checked here.
  assert.deepEqual(await pool.verifyMany(all), want);
  assert.equal(pool.threads, 2);
  await waitReady(pool, 2);
  const before = pool.offloaded;
  assert.deepEqual(await pool.verifyMany(all), want);
  assert.equal(pool.offloaded - before, all.length, "the workers checked them");
  // Several batches at once share the workers.
  const parts = await Promise.all(
    [0, 100, 200].map((at) => pool.verifyMany(all.slice(at, at + 100))),
  );
  assert.deepEqual(parts.flat(), want);
});

Deno.test("a large batch while the workers start: checked here only until one is up, the rest there", async () => {
  const some = await checks(300);
  const local = createVerifier();
  // Enough checks that the calling thread is far from through when the worker is up.
  const all = Array.from({ length: 40 }, () => some).flat();
  const want = all.map((c) => local.verifySync(c.publicKey, c.signature, c.data));
  using pool = createVerifierPool({ size: 1, minBatch: 64 });
  assert.deepEqual(await pool.verifyMany(all), want, "the answers in order, wherever checked");
  assert.ok(pool.offloaded > 0, "the worker took part of the first batch");
  assert.ok(pool.offloaded < all.length, "the calling thread checked slices while it started");
});

Deno.test("small batches and single checks stay on the calling thread", async () => {
  const all = await checks(10);
  using pool = createVerifierPool({ size: 1 });
  const local = createVerifier();
  const want = all.map((c) => local.verifySync(c.publicKey, c.signature, c.data));
  assert.deepEqual(await pool.verifyMany(all), want);
  const c = all[1]!;
  assert.equal(await pool.verify(c.publicKey, c.signature, c.data), true);
  assert.equal(pool.verifySync(c.publicKey, c.signature, c.data), true);
  assert.equal(pool.threads, 0);
});

Deno.test("a closed pool stops its workers and keeps answering on the calling thread", async () => {
  const all = await checks(80);
  const pool = createVerifierPool({ size: 1, minBatch: 8 });
  const want = await pool.verifyMany(all);
  assert.equal(pool.threads, 1);
  await waitReady(pool, 1);
  assert.deepEqual(await pool.verifyMany(all), want);
  pool.close();
  assert.equal(pool.threads, 0);
  assert.deepEqual(await pool.verifyMany(all), want);
  assert.equal(pool.threads, 0);
  assert.throws(() => createVerifierPool({ size: 0 }), RangeError);
});

Deno.test("idle workers stop after idleMs without a batch, and start again with the next large one", async () => {
  const all = await checks(100);
  const want = all.map((c) => createVerifier().verifySync(c.publicKey, c.signature, c.data));
  const clock = new FakeClock();
  using pool = createVerifierPool({ size: 1, minBatch: 16, idleMs: 30_000, clock });
  await pool.verifyMany(all);
  await waitReady(pool, 1);
  assert.deepEqual(await pool.verifyMany(all), want);
  await clock.advance(29_999);
  assert.equal(pool.threads, 1, "not idle long enough yet");
  await clock.advance(1);
  assert.equal(pool.threads, 0, "the idle worker stopped (its memory goes back)");
  // The next large batch is checked here while a worker starts again, then on it.
  assert.deepEqual(await pool.verifyMany(all), want);
  assert.equal(pool.threads, 1);
  await waitReady(pool, 1);
  const before = pool.offloaded;
  assert.deepEqual(await pool.verifyMany(all), want);
  assert.equal(pool.offloaded - before, all.length);
});

Deno.test("warm() starts the workers before any batch, and a batch then goes to them", async () => {
  using pool = createVerifierPool({ size: 1 });
  assert.equal(pool.threads, 0);
  pool.warm();
  assert.equal(pool.threads, 1);
  await waitReady(pool, 1);
  const all = await checks(100);
  await pool.verifyMany(all);
  assert.equal(pool.offloaded, 100, "no check was made on this thread");
});
