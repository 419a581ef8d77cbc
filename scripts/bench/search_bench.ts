/**
 * Search: queries over an index of ROJ_BENCH_SEARCH_N messages (default
 * 100,000) of made-up chat text, the time to build that index and the heap it
 * takes; then a real node's rebuild at start from a log of
 * ROJ_BENCH_SEARCH_LOG entries (default 20,000), scaled to 100,000.
 * The aim: every query ≤ 50 ms at 100,000 messages.
 */
import { initProfile } from "../../node/home/mod.ts";
import { createSigner } from "../../node/identity/mod.ts";
import { ChatLog, notesChatId } from "../../node/log/mod.ts";
import { RojNode } from "../../node/node.ts";
import { type SearchDoc, SearchIndex, STOP_WORDS } from "../../node/search/mod.ts";
import { seededRandom } from "../../testing/temp.ts";
import { median, percentile, type Row } from "./_measure.ts";

const N = Number(Deno.env.get("ROJ_BENCH_SEARCH_N") ?? 100_000);
const LOG_N = Number(Deno.env.get("ROJ_BENCH_SEARCH_LOG") ?? 20_000);
const QUERY_RUNS = 50;
const CHATS = 40;

/** Words with a Zipf-like spread: a few very common, most rare. */
function vocabulary(rand: () => number): string[] {
  const common = "the a to and of I you it is in for on that we at be this with have are so".split(
    " ",
  );
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const made = Array.from({ length: 20_000 }, () => {
    const len = 3 + Math.floor(rand() * 8);
    let w = "";
    for (let i = 0; i < len; i++) w += letters[Math.floor(rand() * 26)];
    return w;
  });
  return [...common, "rope", "climbing", "sunday", "carabiner", ...made];
}

function messageText(words: string[], rand: () => number): string {
  const n = 3 + Math.floor(rand() * 20);
  const out: string[] = [];
  // rand()^3 favours the start of the list: the common words.
  for (let i = 0; i < n; i++) out.push(words[Math.floor(rand() ** 3 * words.length)]!);
  return out.join(" ");
}

function heapMb(): number {
  return Deno.memoryUsage().heapUsed / 1e6;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export async function benchSearch(): Promise<Row[]> {
  const rand = seededRandom(18);
  const words = vocabulary(rand);
  const docs: SearchDoc[] = Array.from({ length: N }, (_, i) => ({
    id: i.toString(16).padStart(64, "0"),
    chat: `chat-${i % CHATS}`,
    author: `person${i % 7}`,
    authorFingerprint: "SHA256:bench",
    mine: i % 7 === 0,
    seq: i,
    lamport: i,
    ts: 1_700_000_000_000 + i * 1000,
    text: messageText(words, rand),
  }));
  gc();
  const heapBefore = heapMb();
  const index = new SearchIndex();
  const t0 = performance.now();
  for (const d of docs) index.add(d);
  const buildMs = performance.now() - t0;
  gc();
  const heap = heapMb() - heapBefore;

  const commonest = words.find((w) => !STOP_WORDS.has(w.toLowerCase()))!;
  const queries: [string, { text: string; chat?: string }][] = [
    [`the commonest indexed word (${JSON.stringify(commonest)})`, { text: commonest }],
    ['a stop word ("the", not indexed)', { text: "the" }],
    ["a rare word", { text: words[5000]! }],
    ["two words, both must match", { text: "rope climbing" }],
    ['a prefix ("cli")', { text: "cli" }],
    ["one chat (--chat)", { text: "rope", chat: "chat-3" }],
  ];
  const rows: Row[] = [];
  const scale = 100_000 / N;
  for (const [name, q] of queries) {
    const ms: number[] = [];
    let total = 0;
    for (let r = 0; r < QUERY_RUNS; r++) {
      const s = performance.now();
      total = index.search({ ...q, limit: 20 }).total;
      ms.push(performance.now() - s);
    }
    const p95 = percentile(ms, 95);
    rows.push({
      name: `query, ${name}`,
      value: median(ms),
      unit: "ms",
      note: `p95 ${p95.toFixed(1)} ms; ${total} hits of ${N}; ${
        p95 <= 50 ? "within" : "OVER"
      } the 50 ms aim`,
    });
  }
  rows.push({
    name: `index build, ${N} messages`,
    value: buildMs * scale,
    unit: "ms per 100k",
    note: `${Math.round(buildMs)} ms measured`,
  });
  rows.push({
    name: "index heap",
    value: heap * scale,
    unit: "MB per 100k",
    note: `${heap.toFixed(1)} MB measured (run with --v8-flags=--expose-gc for a steadier figure)`,
  });
  rows.push(await rebuildRow(words, rand));
  return rows;
}

/** A real node's start: the index rebuilt from LOG_N notes in its store, until "search-index". */
async function rebuildRow(words: string[], rand: () => number): Promise<Row> {
  const dir = await Deno.makeTempDir({ prefix: "roj-bench-search-" });
  try {
    const profile = await initProfile(dir, { name: "bench" });
    const log = new ChatLog(profile.store);
    const signer = await createSigner(profile.keyPair);
    const chat = notesChatId(profile.keyPair.publicKey);
    for (let i = 0; i < LOG_N; i += 1000) {
      const items = Array.from(
        { length: Math.min(1000, LOG_N - i) },
        () => ({ type: "msg", body: messageText(words, rand) }),
      );
      await log.appendMany(chat, signer, items);
    }
    profile.store.close();
    const node = await RojNode.open({
      dataDir: dir,
      listen: { host: "127.0.0.1", port: 0 },
      log: () => {},
      quic: false,
    });
    try {
      let ms = -1;
      const done = new Promise<void>((resolve) =>
        node.subscribe((e) => {
          if (e.type === "search-index") (ms = e.ms, resolve());
        })
      );
      await node.start();
      await done;
      return {
        name: `rebuild at start from the log (${LOG_N} entries)`,
        value: ms * (100_000 / LOG_N),
        unit: "ms per 100k",
        note: `${ms} ms measured: read, viewed, indexed`,
      };
    } finally {
      await node.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
