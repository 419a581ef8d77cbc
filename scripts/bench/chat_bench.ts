/**
 * Chat figures on real nodes talking SSH over loopback (alice on 127.0.0.2,
 * bob on 127.0.0.3, in this process): 1:1 delivery latency and catch-up
 * throughput, each against a bare ssh2 channel on the roj subsystem measured
 * in the same run.
 */
import { befriend, startTestNode } from "../../testing/nodes.ts";
import { countBytes, messageInbox, sshPair } from "./_pairs.ts";
import { median, percentile, type Row, withTimeout } from "./_measure.ts";
import { twoProcessLatencies } from "./_two_processes.ts";

/** Messages timed one by one for the latency figures (after a few not timed). */
const LATENCY_N = 300;
const WARMUP = 20;
/** Bytes of each bare round trip: about one sync.push frame holding one message. */
const ECHO_BYTES = 600;
/** Entries bob catches up on, and how often that is measured. */
const CATCHUP_N = 20_000;
const CATCHUP_RUNS = 3;
const APPEND_BATCH = 1000;
/** Bytes per chunk of the bare throughput baseline, about one entry. */
const CHUNK_BYTES = 350;
/** The same bytes in writes as large as sync's frames, for the pipe's bulk rate. */
const BULK_BYTES = 1 << 20;

const ms = (t0: number) => performance.now() - t0;

/** Round-trip times in ms of `n` small payloads echoed by the server end. */
async function bareRoundTrips(n: number): Promise<number[]> {
  const pair = await sshPair();
  try {
    pair.server.onData((chunk) => pair.server.send(chunk));
    const counter = countBytes(pair.client);
    const payload = new Uint8Array(ECHO_BYTES).fill(0x61);
    const times: number[] = [];
    let sent = 0;
    for (let i = 0; i < n + WARMUP; i++) {
      const t0 = performance.now();
      pair.client.send(payload);
      sent += payload.length;
      await counter.until(sent);
      if (i >= WARMUP) times.push(ms(t0));
    }
    return times;
  } finally {
    await pair.close();
  }
}

/** Seconds to move `n` writes of `bytes` one way over a bare roj pipe. */
async function bareThroughput(n: number, bytes: number): Promise<number> {
  const pair = await sshPair();
  try {
    const counter = countBytes(pair.server);
    const chunk = new Uint8Array(bytes).fill(0x62);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) pair.client.send(chunk);
    await counter.until(n * bytes);
    return ms(t0) / 1000;
  } finally {
    await pair.close();
  }
}

/** Times from alice's `send` call until bob's node reports the message, in ms. */
async function deliveryLatencies(n: number): Promise<number[]> {
  await using alice = await startTestNode("alice", { host: "127.0.0.2" });
  await using bob = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(alice, bob);
  const inbox = messageInbox(bob);
  try {
    const times: number[] = [];
    for (let i = 0; i < n + WARMUP; i++) {
      const text = `latency probe ${i}, about as long as a short chat message`;
      const arrived = inbox.next(text);
      const t0 = performance.now();
      await alice.node.call("send", { chat: "bob", text });
      await withTimeout(arrived, 10_000, `message ${i}`);
      if (i >= WARMUP) times.push(ms(t0));
    }
    return times;
  } finally {
    inbox.stop();
  }
}

/**
 * Seconds from bob's start until he holds all `n` entries alice wrote while he
 * was offline. Bob restarts with the same data folder and address, so he dials
 * alice (and she him) as after any restart. (Also the baseline of devsync_bench.ts.)
 */
export async function catchUp(n: number): Promise<number> {
  await using alice = await startTestNode("alice", { host: "127.0.0.2" });
  const first = await startTestNode("bob", { host: "127.0.0.3" });
  const bobDir = first.dir;
  try {
    await befriend(alice, first);
    const port = first.node.address!.port;
    await first.stop();
    const chat = alice.node.chat("bob").id;
    for (let i = 0; i < n; i += APPEND_BATCH) {
      const items = Array.from({ length: Math.min(APPEND_BATCH, n - i) }, (_, j) => ({
        type: "msg",
        body: `catch-up message ${i + j}, about as long as a short chat message`,
      }));
      await alice.node.log.appendMany(chat, alice.node.signer, items);
    }

    const t0 = performance.now();
    await using bob = await startTestNode("bob", { host: "127.0.0.3", port, dir: bobDir });
    // Events before this point are in bob.events; none are missed in between.
    let count = bob.events.filter((e) => e.type === "message" && !e.message.mine).length;
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    const stop = bob.node.subscribe((e) => {
      if (e.type === "message" && !e.message.mine && ++count >= n) done();
    });
    try {
      if (count < n) await withTimeout(all, 120_000, `catch-up of ${n} entries`);
      const seconds = ms(t0) / 1000;
      const held = (await bob.node.read("alice")).length;
      if (held !== n) throw new Error(`bob holds ${held} of alice's ${n} entries`);
      return seconds;
    } finally {
      stop();
    }
  } finally {
    await first.stop();
    await Deno.remove(bobDir, { recursive: true }).catch(() => {});
  }
}

export async function benchChat(): Promise<Row[]> {
  const bare = await bareRoundTrips(LATENCY_N);
  const roj = await deliveryLatencies(LATENCY_N);
  const apart = await twoProcessLatencies(LATENCY_N, WARMUP);
  const bareP50 = percentile(bare, 50);
  const rojP50 = percentile(roj, 50);

  const bareSecs: number[] = [];
  const bulkSecs: number[] = [];
  const bulkWrites = Math.ceil(CATCHUP_N * CHUNK_BYTES / BULK_BYTES);
  for (let r = 0; r < CATCHUP_RUNS; r++) {
    bareSecs.push(await bareThroughput(CATCHUP_N, CHUNK_BYTES));
    bulkSecs.push(await bareThroughput(bulkWrites, BULK_BYTES));
  }
  const catchSecs: number[] = [];
  for (let r = 0; r < CATCHUP_RUNS; r++) catchSecs.push(await catchUp(CATCHUP_N));
  const bareRate = CATCHUP_N / median(bareSecs);
  const catchRate = CATCHUP_N / median(catchSecs);

  return [
    {
      name: `baseline: bare ssh2 round trip, ${ECHO_BYTES} B on the roj subsystem, p50`,
      value: bareP50,
      unit: "ms",
      note: `${LATENCY_N} round trips`,
    },
    { name: "baseline: bare ssh2 round trip, p99", value: percentile(bare, 99), unit: "ms" },
    {
      name: "1:1 delivery: alice's send until bob's message event, p50",
      value: rojP50,
      unit: "ms",
      note: `${LATENCY_N} messages one at a time; ${
        (rojP50 / bareP50).toFixed(1)
      }x the bare round trip (target <= 3 ms)`,
    },
    { name: "1:1 delivery, p99", value: percentile(roj, 99), unit: "ms" },
    {
      name: "1:1 delivery between two node processes (control socket to follow), p50",
      value: percentile(apart, 50),
      unit: "ms",
      note: `${
        (percentile(apart, 50) / bareP50).toFixed(1)
      }x the bare round trip; with two control-socket hops; the commit overlap shows here`,
    },
    {
      name: "1:1 delivery between two node processes, p99",
      value: percentile(apart, 99),
      unit: "ms",
    },
    {
      name: `baseline: bare ssh2 one way, ${CATCHUP_N.toLocaleString("en-US")} x ${CHUNK_BYTES} B`,
      value: bareRate,
      unit: "chunks/s",
      note: `${
        (CATCHUP_N * CHUNK_BYTES / median(bareSecs) / 1e6).toFixed(1)
      } MB/s; median of ${CATCHUP_RUNS}`,
    },
    {
      name: `baseline: bare ssh2 one way, the same bytes in 1 MiB writes`,
      value: bulkWrites * BULK_BYTES / median(bulkSecs) / 1e6,
      unit: "MB/s",
      note: `median of ${CATCHUP_RUNS}`,
    },
    {
      name: `catch-up: bob's start until he holds ${CATCHUP_N.toLocaleString("en-US")} entries`,
      value: catchRate,
      unit: "entries/s",
      note: `${median(catchSecs).toFixed(2)} s, median of ${CATCHUP_RUNS}; ${
        (catchRate / bareRate * 100).toFixed(0)
      }% of the bare rate (target >= 5,000/s)`,
    },
  ];
}
