/**
 * Foundation figures: sign, verify, append and merge throughput of log
 * entries, against raw WebCrypto Ed25519 verify and raw batched KV sets
 * measured in the same run.
 */
import { createSigner, createVerifier, generateKeyPair } from "../../node/identity/mod.ts";
import { ChatLog, createEntry, type Entry, verifyEntry } from "../../node/log/mod.ts";
import { openStore } from "../../node/store/mod.ts";
import { median, rate, type Row } from "./_measure.ts";

const N = 5000;
const RUNS = 5;
const CHAT = "bench-chat";

async function withStore<T>(
  fn: (s: Awaited<ReturnType<typeof openStore>>) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "roj-bench-" });
  const store = await openStore(`${dir}/roj.kv`);
  try {
    return await fn(store);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

export async function benchLog(): Promise<Row[]> {
  const kp = await generateKeyPair("bench");
  const signer = await createSigner(kp);
  // A history of N entries by one author, signed once, reused by every run.
  const entries: Entry[] = [];
  let prev: Entry | null = null;
  for (let i = 0; i < N; i++) {
    const e: Entry = await createEntry(signer, {
      chat: CHAT,
      author: kp.publicKey,
      seq: i + 1,
      prev: prev?.hash ?? null,
      lamport: i + 1,
      ts: Date.now(),
      type: "msg",
      body: `benchmark message number ${i} with a typical length of text`,
    });
    entries.push(e);
    prev = e;
  }

  // Baseline 1: raw WebCrypto Ed25519 verify of 64-byte signatures over the entries' bytes.
  const key = await crypto.subtle.importKey(
    "raw",
    kp.publicKey as BufferSource,
    { name: "Ed25519" },
    false,
    ["verify"],
  );
  const privKey = await crypto.subtle.importKey(
    "pkcs8",
    new Uint8Array([...[
      0x30,
      0x2e,
      0x02,
      0x01,
      0x00,
      0x30,
      0x05,
      0x06,
      0x03,
      0x2b,
      0x65,
      0x70,
      0x04,
      0x22,
      0x04,
      0x20,
    ], ...kp.seed]),
    { name: "Ed25519" },
    false,
    ["sign"],
  );
  const rawSigs = await Promise.all(
    entries.map((e) => crypto.subtle.sign("Ed25519", privKey, e.signed as BufferSource)),
  );
  const rawVerify = await rate(RUNS, N, async () => {
    await Promise.all(
      entries.map((e, i) =>
        crypto.subtle.verify("Ed25519", key, rawSigs[i]!, e.signed as BufferSource)
      ),
    );
  });

  // Baseline 2: raw KV sets in atomic batches of 500, values the size of a stored entry.
  const value = { signed: entries[0]!.signed, sig: entries[0]!.sig };
  const rawKv = await withStore(async (store) =>
    await rate(RUNS, N, async (run) => {
      for (let i = 0; i < N; i += 500) {
        const op = store.kv.atomic();
        for (let j = i; j < i + 500; j++) op.set(["bench", run, j], value);
        await op.commit();
      }
    })
  );

  const sign = await rate(RUNS, 1000, async () => {
    for (let i = 0; i < 1000; i++) await createEntry(signer, entries[i]!);
  });

  const verifier = createVerifier();
  const verify = await rate(RUNS, N, async () => {
    await Promise.all(entries.map((e) => verifyEntry(e.signed, e.sig, verifier)));
  });

  const append = await withStore(async (store) => {
    const log = new ChatLog(store);
    const items = Array.from({ length: 1000 }, (_, i) => ({ type: "msg", body: `append ${i}` }));
    return await rate(RUNS, 1000, async (run) => {
      await log.appendMany(`${CHAT}-${run}`, signer, items);
    });
  });

  // Merge: verify + store, in batches of 1000 as sync delivers them.
  const mergeRates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    await withStore(async (store) => {
      const log = new ChatLog(store, { verifier: createVerifier() });
      const t0 = performance.now();
      for (let i = 0; i < N; i += 1000) {
        const res = await log.merge(CHAT, entries.slice(i, i + 1000));
        if (res.stored.length !== Math.min(1000, N - i)) throw new Error("merge stored too little");
      }
      mergeRates.push(N / ((performance.now() - t0) / 1000));
    });
  }
  const merge = median(mergeRates);

  return [
    { name: "baseline: raw WebCrypto Ed25519 verify", value: rawVerify, unit: "verifies/s" },
    { name: "baseline: raw Deno KV sets, atomic batches of 500", value: rawKv, unit: "sets/s" },
    { name: "sign entry (canonical bytes + SSHSIG)", value: sign, unit: "entries/s" },
    {
      name: "verify entry (decode + SSHSIG verify)",
      value: verify,
      unit: "entries/s",
      note: `${(verify / rawVerify * 100).toFixed(0)}% of raw verify`,
    },
    {
      name: "append own entries (sign + commit), batches of 1000",
      value: append,
      unit: "entries/s",
    },
    {
      name: "merge: verify + store, batches of 1000",
      value: merge,
      unit: "entries/s",
      note: `${(merge / rawVerify * 100).toFixed(0)}% of raw verify (target >= 50%, >= 10,000/s)`,
    },
  ];
}
