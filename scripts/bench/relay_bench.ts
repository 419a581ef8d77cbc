/**
 * Relay figures on real nodes over loopback SSH, in this process: delivery
 * latency and a burst's throughput between two contacts, once on a direct
 * session and once through an anchor that splices their SSH session (each
 * publishes a dead address, so the relay is their only path). Both pairs run
 * at once and are measured in alternating blocks, so that load on the machine
 * hits both alike; the ratios to direct are the figures (target: relayed p50
 * at most 2x direct).
 */
import { befriend, startTestNode, type TestNode, until } from "../../testing/nodes.ts";
import { median, percentile, type Row } from "./_measure.ts";
import { messageInbox } from "./_pairs.ts";

const BLOCKS = 6;
const PER_BLOCK = 50;
const WARMUP = 20;
const BURST = 500;
const BURST_RUNS = 3;

const ms = (t0: number) => performance.now() - t0;

async function within<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`bench: ${what} not delivered in ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

interface Pair {
  readonly alice: TestNode;
  readonly bob: TestNode;
  /** The relay, for the relayed pair. */
  readonly hive?: TestNode;
  close(): Promise<void>;
}

async function directPair(): Promise<Pair> {
  const alice = await startTestNode("alice", { host: "127.30.0.2" });
  const bob = await startTestNode("bob", { host: "127.30.0.3" });
  await befriend(alice, bob);
  return {
    alice,
    bob,
    close: async () => {
      for (const n of [alice, bob]) await n[Symbol.asyncDispose]();
    },
  };
}

async function join(member: TestNode, anchor: TestNode): Promise<void> {
  const invite = await anchor.node.call("invite", {});
  await member.node.call("add", { invite: invite.text });
}

/** alice and bob reach each other only through anchor `hive` (see tests/relay_test.ts). */
async function relayedPair(): Promise<Pair> {
  const hive = await startTestNode("hive", { host: "127.31.0.1", passive: true });
  const a0 = await startTestNode("alice", { host: "127.31.0.2" });
  const b0 = await startTestNode("bob", { host: "127.31.0.3" });
  await befriend(a0, b0);
  await join(a0, hive);
  await join(b0, hive);
  await a0.stop();
  await b0.stop();
  const alice = await startTestNode("alice", {
    host: "127.31.0.2",
    dir: a0.dir,
    advertise: ["127.31.0.2:1"],
    // No punched path: it would replace the relayed session measured here.
    quic: false,
  });
  const bob = await startTestNode("bob", {
    host: "127.31.0.3",
    dir: b0.dir,
    advertise: ["127.31.0.3:1"],
    quic: false,
  });
  await until(
    async () =>
      (await alice.node.call("peers", {})).find((p) => p.name === "bob")?.path === "relayed",
    30_000,
    "the relayed session",
  );
  return {
    alice,
    bob,
    hive,
    close: async () => {
      for (const n of [alice, bob, hive]) await n.stop();
      for (const n of [a0, b0, hive]) await Deno.remove(n.dir, { recursive: true }).catch(() => {});
    },
  };
}

async function latencies(p: Pair, n: number, tag: string): Promise<number[]> {
  const box = messageInbox(p.bob);
  try {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const text = `${tag} probe ${i}, about as long as a short chat message`;
      const arrived = box.next(text);
      const t0 = performance.now();
      await p.alice.node.call("send", { chat: "bob", text });
      await within(arrived, 15_000, `${tag} message ${i}`);
      times.push(ms(t0));
    }
    return times;
  } finally {
    box.stop();
  }
}

/** Messages per second: `n` sends at once, until bob holds the last. */
async function burst(p: Pair, n: number, tag: string): Promise<number> {
  const box = messageInbox(p.bob);
  try {
    const last = box.next(`${tag} burst ${n - 1}`);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      await p.alice.node.call("send", { chat: "bob", text: `${tag} burst ${i}` });
    }
    await within(last, 60_000, `${tag} burst`);
    return n / (ms(t0) / 1000);
  } finally {
    box.stop();
  }
}

export async function benchRelay(): Promise<Row[]> {
  const direct = await directPair();
  const relayed = await relayedPair();
  try {
    await latencies(direct, WARMUP, "warm-d");
    await latencies(relayed, WARMUP, "warm-r");
    const d: number[] = [], r: number[] = [];
    for (let b = 0; b < BLOCKS; b++) {
      d.push(...await latencies(direct, PER_BLOCK, `d${b}`));
      r.push(...await latencies(relayed, PER_BLOCK, `r${b}`));
    }
    const bd: number[] = [], br: number[] = [];
    for (let i = 0; i < BURST_RUNS; i++) {
      bd.push(await burst(direct, BURST, `bd${i}`));
      br.push(await burst(relayed, BURST, `br${i}`));
    }
    const p50d = median(d), p50r = median(r);
    const load = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
    return [
      { name: "delivery latency, direct: p50", value: p50d, unit: "ms", note: `n=${d.length}` },
      { name: "delivery latency, direct: p90", value: percentile(d, 90), unit: "ms" },
      { name: "delivery latency, relayed: p50", value: p50r, unit: "ms", note: `n=${r.length}` },
      { name: "delivery latency, relayed: p90", value: percentile(r, 90), unit: "ms" },
      {
        name: "relayed p50 / direct p50",
        value: p50r / p50d,
        unit: "x",
        note: `target <= 2; alternating blocks of ${PER_BLOCK}; load ${load}`,
      },
      { name: `burst of ${BURST} sends, direct`, value: median(bd), unit: "msg/s" },
      { name: `burst of ${BURST} sends, relayed`, value: median(br), unit: "msg/s" },
      {
        name: "relayed / direct burst rate",
        value: median(br) / median(bd),
        unit: "x",
        note: `median of ${BURST_RUNS}`,
      },
      {
        name: "bytes the relay forwarded",
        value: relayed.hive!.node.relay.bytesRelayed,
        unit: "B",
        note: "all SSH ciphertext",
      },
    ];
  } finally {
    await direct.close();
    await relayed.close();
  }
}
