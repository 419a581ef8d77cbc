/**
 * Foundation figures: sign, verify, append and merge throughput of log
 * entries, against raw Ed25519 verify (WebCrypto, and node:crypto which the
 * log's verifier uses) and raw batched KV sets measured in the same run.
 *
 * Every measure runs once per round and the rounds are repeated, so that a
 * figure and the baseline it is compared with see the same machine load; the
 * table holds the median of each.
 */
import { Buffer } from "node:buffer";
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import {
  createSigner,
  createVerifier,
  createVerifierPool,
  generateKeyPair,
} from "../../node/identity/mod.ts";
import {
  ChatLog,
  type ChatLogOptions,
  createEntry,
  type Entry,
  verifyEntry,
} from "../../node/log/mod.ts";
import { openStore, type Store } from "../../node/store/mod.ts";
import { median, type Row } from "./_measure.ts";

const N = 5000;
const RUNS = 5;
const CHAT = "bench-chat";

/** Ed25519 key encodings up to the 32 key bytes (RFC 8410). */
const PKCS8_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70];
const PKCS8_SEED = [0x04, 0x22, 0x04, 0x20];
const SPKI_PREFIX = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

async function withStore<T>(fn: (s: Store) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "roj-bench-" });
  const store = await openStore(`${dir}/roj.kv`);
  try {
    return await fn(store);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A measure: does `count` operations per call and resolves with the ms they took. */
interface Measure {
  readonly count: number;
  run(round: number): Promise<number>;
}

/** The ms `fn` takes. */
async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
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

  // Raw 64-byte Ed25519 signatures over the entries' bytes.
  const key = await crypto.subtle.importKey(
    "raw",
    kp.publicKey as BufferSource,
    { name: "Ed25519" },
    false,
    ["verify"],
  );
  const privKey = await crypto.subtle.importKey(
    "pkcs8",
    new Uint8Array([...PKCS8_PREFIX, ...PKCS8_SEED, ...kp.seed]),
    { name: "Ed25519" },
    false,
    ["sign"],
  );
  const rawSigs = await Promise.all(
    entries.map((e) => crypto.subtle.sign("Ed25519", privKey, e.signed as BufferSource)),
  );
  const nodeKey = createPublicKey({
    key: Buffer.from([...SPKI_PREFIX, ...kp.publicKey]),
    format: "der",
    type: "spki",
  });
  const nodeSigs = rawSigs.map((s) => new Uint8Array(s));

  const value = { signed: entries[0]!.signed, sig: entries[0]!.sig };
  const appendItems = Array.from({ length: 1000 }, (_, i) => ({
    type: "msg",
    body: `append ${i}`,
  }));
  const verifier = createVerifier();
  // The node's verifier: a pool whose workers check large merges.
  using pool = createVerifierPool();
  // Started before the rounds, as in a node that has merged before.
  await pool.verifyMany(Array.from({ length: 64 }, () => ({
    publicKey: kp.publicKey,
    signature: nodeSigs[0]!,
    data: entries[0]!.signed,
  })));
  for (let i = 0; pool.ready < pool.threads; i++) {
    if (i > 3000) throw new Error("the verifier pool's workers did not start");
    await new Promise((r) => setTimeout(r, 10));
  }

  const merge = (round: number, v: ChatLogOptions["verifier"]) =>
    withStore((store) => {
      const log = new ChatLog(store, v ? { verifier: v } : {});
      return timed(async () => {
        for (let i = 0; i < N; i += 1000) {
          const res = await log.merge(CHAT, entries.slice(i, i + 1000));
          if (res.stored.length !== Math.min(1000, N - i)) {
            throw new Error(`merge stored too little in round ${round}`);
          }
        }
      });
    });

  const measures: Record<string, Measure> = {
    rawVerify: {
      count: N,
      run: () =>
        timed(() =>
          Promise.all(
            entries.map((e, i) =>
              crypto.subtle.verify("Ed25519", key, rawSigs[i]!, e.signed as BufferSource)
            ),
          )
        ),
    },
    nodeVerify: {
      count: N,
      run: () =>
        timed(() => {
          for (let i = 0; i < N; i++) nodeVerify(null, entries[i]!.signed, nodeKey, nodeSigs[i]!);
        }),
    },
    // Raw KV sets in atomic batches of 500, values the size of a stored entry.
    rawKv: {
      count: N,
      run: (round) =>
        withStore((store) =>
          timed(async () => {
            for (let i = 0; i < N; i += 500) {
              const op = store.kv.atomic();
              for (let j = i; j < i + 500; j++) op.set(["bench", round, j], value);
              await op.commit();
            }
          })
        ),
    },
    sign: {
      count: 1000,
      run: () =>
        timed(async () => {
          for (let i = 0; i < 1000; i++) await createEntry(signer, entries[i]!);
        }),
    },
    verify: {
      count: N,
      run: () =>
        timed(() => Promise.all(entries.map((e) => verifyEntry(e.signed, e.sig, verifier)))),
    },
    append: {
      count: 1000,
      run: (round) =>
        withStore((store) => {
          const log = new ChatLog(store);
          return timed(() => log.appendMany(`${CHAT}-${round}`, signer, appendItems));
        }),
    },
    // Merge: verify + store, in batches of 1000 as sync delivers them.
    merge: { count: N, run: (round) => merge(round, pool) },
    mergeHere: { count: N, run: (round) => merge(round, createVerifier()) },
  };

  // Stores are opened and removed outside the timed part.
  const rates: Record<string, number[]> = {};
  for (let round = 0; round < RUNS; round++) {
    for (const [name, m] of Object.entries(measures)) {
      (rates[name] ??= []).push(m.count / (await m.run(round) / 1000));
    }
  }
  const r = Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, median(v)]));
  const pct = (x: number) => `${(x / r.rawVerify! * 100).toFixed(0)}% of raw WebCrypto verify`;

  return [
    { name: "baseline: raw WebCrypto Ed25519 verify", value: r.rawVerify!, unit: "verifies/s" },
    {
      name: "baseline: raw node:crypto Ed25519 verify (sync)",
      value: r.nodeVerify!,
      unit: "verifies/s",
      note: pct(r.nodeVerify!),
    },
    { name: "baseline: raw Deno KV sets, atomic batches of 500", value: r.rawKv!, unit: "sets/s" },
    { name: "sign entry (canonical bytes + SSHSIG)", value: r.sign!, unit: "entries/s" },
    {
      name: "verify entry (decode + SSHSIG verify)",
      value: r.verify!,
      unit: "entries/s",
      note: pct(r.verify!),
    },
    {
      name: "append own entries (sign + commit), batches of 1000",
      value: r.append!,
      unit: "entries/s",
    },
    {
      name:
        `merge: verify + store, batches of 1000 (as the node: verifier pool, ${pool.threads} worker${
          pool.threads === 1 ? "" : "s"
        })`,
      value: r.merge!,
      unit: "entries/s",
      note: `${pct(r.merge!)} (target >= 50%, >= 10,000/s)`,
    },
    {
      name: "merge, verifying on the calling thread only",
      value: r.mergeHere!,
      unit: "entries/s",
      note: pct(r.mergeHere!),
    },
  ];
}
