/**
 * Paths through NAT, on loopback in this process: 1:1 delivery latency over
 * a punched path (SSH inside QUIC, introduced by an anchor) against a direct
 * session (SSH over TCP) measured in the same run, and the bare SSH round
 * trip over each carrier. The ratios to direct are the figures; the NAT lab
 * (scripts/netlab.sh, root only) shows that punching works, not its speed.
 */
import { befriend, startTestNode, type TestNode, until } from "../../testing/nodes.ts";
import { startPunchTrio } from "../../testing/netlab.ts";
import { percentile, type Row } from "./_measure.ts";
import { countBytes, sshPair } from "./_pairs.ts";

const LATENCY_N = 200;
const WARMUP = 20;
const ECHO_BYTES = 600;

const ms = (t0: number) => performance.now() - t0;

/** How long a message may take before it counts as stalled (see `latencies`). */
const STALL_MS = 3000;

interface Latencies {
  readonly times: number[];
  /** Messages that had not arrived after STALL_MS (left out of `times`). */
  readonly stalled: number;
}

/**
 * Times from alice's `send` until bob's node reports the message, in ms. A
 * message that has not arrived after STALL_MS is counted and skipped: the
 * chat sync can lose a notify that lands while its previous push finishes,
 * and then the entry only goes with the next message (reported to the lead).
 */
async function latencies(alice: TestNode, bob: TestNode, n: number): Promise<Latencies> {
  const waiting = new Map<string, () => void>();
  const stop = bob.node.subscribe((e) => {
    if (e.type !== "message" || e.message.mine) return;
    waiting.get(e.message.body)?.();
    waiting.delete(e.message.body);
  });
  try {
    const times: number[] = [];
    let stalled = 0;
    for (let i = 0; i < n + WARMUP; i++) {
      const text = `latency probe ${i}, about as long as a short chat message`;
      const arrived = new Promise<boolean>((resolve) => waiting.set(text, () => resolve(true)));
      const t0 = performance.now();
      await alice.node.call("send", { chat: "bob", text });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const inTime = await Promise.race([
        arrived,
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), STALL_MS))),
      ]);
      clearTimeout(timer);
      if (!inTime) {
        waiting.delete(text);
        stalled++;
      } else if (i >= WARMUP) times.push(ms(t0));
    }
    return { times, stalled };
  } finally {
    stop();
  }
}

async function directLatencies(n: number): Promise<Latencies> {
  await using alice = await startTestNode("alice", { host: "127.0.0.80" });
  await using bob = await startTestNode("bob", { host: "127.0.0.81" });
  await befriend(alice, bob);
  return await latencies(alice, bob, n);
}

async function punchedLatencies(n: number): Promise<Latencies> {
  await using trio = await startPunchTrio(["127.0.0.82", "127.0.0.83", "127.0.0.84"]);
  await until(
    async () =>
      (await trio.alice.node.call("peers", {})).find((p) => p.name === "bob")?.path === "punched",
    30_000,
    "a punched session",
  );
  return await latencies(trio.alice, trio.bob, n);
}

/** Round trips of `ECHO_BYTES` on a bare roj pipe, over TCP or inside QUIC. */
async function bareRoundTrips(n: number, carrier: "tcp" | "quic"): Promise<number[]> {
  const pair = await sshPair({ host: "127.0.0.85", clientHost: "127.0.0.86", carrier });
  try {
    pair.server.onData((c) => pair.server.send(c));
    const counter = countBytes(pair.client);
    const payload = new Uint8Array(ECHO_BYTES).fill(0x61);
    const times: number[] = [];
    for (let i = 0; i < n + WARMUP; i++) {
      const t0 = performance.now();
      pair.client.send(payload);
      await counter.until((i + 1) * ECHO_BYTES);
      if (i >= WARMUP) times.push(ms(t0));
    }
    return times;
  } finally {
    await pair.close();
  }
}

export async function benchNat(): Promise<Row[]> {
  const bareTcp = await bareRoundTrips(LATENCY_N, "tcp");
  const bareQuic = await bareRoundTrips(LATENCY_N, "quic");
  const { times: direct, stalled: directStalled } = await directLatencies(LATENCY_N);
  const { times: punched, stalled: punchedStalled } = await punchedLatencies(LATENCY_N);
  const p50 = (xs: number[]) => percentile(xs, 50);
  return [
    {
      name: `baseline: bare SSH round trip over TCP, ${ECHO_BYTES} B, p50`,
      value: p50(bareTcp),
      unit: "ms",
      note: `${LATENCY_N} round trips`,
    },
    {
      name: "bare SSH round trip inside QUIC, p50",
      value: p50(bareQuic),
      unit: "ms",
      note: `${(p50(bareQuic) / p50(bareTcp)).toFixed(2)}x TCP`,
    },
    {
      name: "baseline: 1:1 delivery over a direct session (TCP), p50",
      value: p50(direct),
      unit: "ms",
      note: `${LATENCY_N} messages one at a time; ${directStalled} stalled > ${STALL_MS} ms`,
    },
    { name: "1:1 delivery, direct, p99", value: percentile(direct, 99), unit: "ms" },
    {
      name: "1:1 delivery over a punched path (SSH inside QUIC), p50",
      value: p50(punched),
      unit: "ms",
      note: `${
        (p50(punched) / p50(direct)).toFixed(2)
      }x direct; ${punchedStalled} stalled > ${STALL_MS} ms`,
    },
    { name: "1:1 delivery, punched, p99", value: percentile(punched, 99), unit: "ms" },
  ];
}
