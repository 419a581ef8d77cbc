/**
 * File transfer figures (issue 15), all against the bare ssh2 bulk rate
 * measured in the same run (one SSH connection between two fresh keys,
 * 256 KiB writes on the roj subsystem, nothing else):
 *
 * - direct: a file between two `roj run` processes over loopback, from the
 *   signed entry to the receiver's last verified chunk (target: >= 50% of
 *   bare), and the peak RSS of both sides from /proc (target: +64 MiB for
 *   1 GiB);
 * - relayed: the same between two `roj run` processes that reach each other
 *   only through a third, an anchor splicing their SSH session (its
 *   --relay-rate raised out of the way; target: >= 40% of bare);
 * - kill -9 of the receiver at 50%: the bytes it fetched after its restart;
 * - group: a file sent to a group of five `roj run` processes, until every
 *   other member holds it, against a 1:1 file and a bare run in the same round.
 *
 * ROJ_BENCH_FILE_MIB sets the file size (default 256; 8 for a smoke run);
 * ROJ_BENCH_FILE_PARTS (comma-separated: direct, relayed, group; default
 * direct,relayed,group) picks the cases; bare is always measured.
 */
import {
  memoryOf,
  processPair,
  sendFileFrom as sendFrom,
  writeRandomFile as writeContent,
} from "../../testing/files.ts";
import type { NodeProcess } from "../../testing/processes.ts";
import { median, type Row } from "./_measure.ts";
import { countBytes, sshPair } from "./_pairs.ts";
import { call, directMembers, relayedMembers } from "./_member_processes.ts";
import { until } from "../../testing/nodes.ts";

const MiB = 1024 * 1024;
const SIZE = Number(Deno.env.get("ROJ_BENCH_FILE_MIB") ?? 256) * MiB;
const CHUNK = 256 * 1024;
/** Rounds of the relayed and group cases (ROJ_BENCH_FILE_RUNS), each beside a bare run of its own. */
const RUNS = Number(Deno.env.get("ROJ_BENCH_FILE_RUNS") ?? 3);
/** The anchor's --relay-rate: out of the way of the figure (its default, 4M, would be the figure). */
const RELAY_RATE = "1G";
const PARTS = new Set(
  (Deno.env.get("ROJ_BENCH_FILE_PARTS") ?? "direct,relayed,group").split(","),
);
/** The group case: its founder first. */
const GROUP = ["alice", "bob", "carol", "dave", "erin"];
const peakRss = async (pid: number) => (await memoryOf(pid)).hwm;

/** MB/s of `size` bytes on a bare SSH roj channel, 256 KiB writes. */
async function bareRate(size: number): Promise<number> {
  const pair = await sshPair({ host: "127.40.0.1" });
  try {
    const counter = countBytes(pair.server);
    const block = new Uint8Array(CHUNK);
    const t0 = performance.now();
    for (let sent = 0; sent < size; sent += CHUNK) pair.client.send(block);
    await counter.until(size);
    return size / ((performance.now() - t0) / 1000);
  } finally {
    await pair.close();
  }
}

export async function benchFiles(): Promise<Row[]> {
  const dir = await Deno.makeTempDir({ prefix: "roj-bench-files-" });
  const rows: Row[] = [];
  const mb = (r: number) => r / 1e6;
  try {
    await writeContent(`${dir}/file.bin`, SIZE);
    const bare = await bareRate(SIZE);
    rows.push({ name: `bare ssh2 bulk, ${SIZE / MiB} MiB`, value: mb(bare), unit: "MB/s" });

    if (PARTS.has("direct")) {
      // Direct, between processes: rate and both sides' peak RSS.
      const args = ["--max-file-size", String(4 * SIZE)];
      const p = await processPair(dir, ["127.40.0.2", "127.40.0.3"], args);
      try {
        const before = { a: await peakRss(p.a.child.pid), b: await peakRss(p.b.child.pid) };
        const t0 = performance.now();
        const f = await sendFrom(p.a, `${dir}/file.bin`);
        const t1 = performance.now();
        const from = p.b.events().length;
        await p.b.waitForEvent(
          "file",
          (e) => e.op === "complete" && e.side === "receive" && e.id === f.id,
          {
            timeoutMs: 600_000,
            after: from,
            what: "direct transfer",
          },
        );
        const rate = SIZE / ((performance.now() - t1) / 1000);
        rows.push({
          name: "sender reads the file into its store",
          value: mb(SIZE / ((t1 - t0) / 1000)),
          unit: "MB/s",
        });
        rows.push({
          name: "direct transfer, entry to last verified chunk",
          value: mb(rate),
          unit: "MB/s",
          note: `${((100 * rate) / bare).toFixed(0)}% of bare (target >= 50%)`,
        });
        const after = { a: await peakRss(p.a.child.pid), b: await peakRss(p.b.child.pid) };
        rows.push({
          name: "sender peak RSS",
          value: after.a / MiB,
          unit: "MiB",
          note: `+${((after.a - before.a) / MiB).toFixed(1)} MiB (target +64 MiB for 1 GiB)`,
        });
        rows.push({
          name: "receiver peak RSS",
          value: after.b / MiB,
          unit: "MiB",
          note: `+${((after.b - before.b) / MiB).toFixed(1)} MiB`,
        });

        // kill -9 of the receiver at 50%, on a second file.
        await writeContent(`${dir}/second.bin`, SIZE);
        const g = await sendFrom(p.a, `${dir}/second.bin`);
        const half = await p.b.waitForEvent(
          "file",
          (e) =>
            e.op === "progress" && e.side === "receive" && e.id === g.id && e.done >= e.total / 2,
          { timeoutMs: 600_000, what: "half of the second file" },
        );
        await p.b.kill9();
        await p.restartB();
        const done = await p.b.waitForEvent(
          "file",
          (e) => e.op === "complete" && e.side === "receive" && e.id === g.id,
          { timeoutMs: 600_000, what: "the rest after the restart" },
        );
        rows.push({
          name: "kill -9 at 50%: fetched after the restart",
          value: (done.fetched ?? NaN) / MiB,
          unit: "MiB",
          note: `of ${SIZE / MiB} MiB; ${half.done} of ${half.total} chunks were held when killed`,
        });
      } finally {
        await p.close();
      }
    }

    if (PARTS.has("relayed")) rows.push(...await relayedRows(dir));
    if (PARTS.has("group")) rows.push(...await groupRows(dir));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return rows;
}

/**
 * Files from alice to bob through an anchor splicing their SSH session, three
 * processes: RUNS rounds, each a fresh file after a bare run of its own (the
 * machine's load moves between rounds; a ratio is of figures taken together).
 */
async function relayedRows(dir: string): Promise<Row[]> {
  const fileArgs = ["--max-file-size", String(4 * SIZE)];
  const hive = await relayedMembers(
    `${dir}/relayed`,
    "127.41.0",
    ["alice", "bob"],
    RELAY_RATE,
    fileArgs,
  );
  try {
    const [alice, bob] = hive.members as [NodeProcess, NodeProcess];
    const procs = [alice, hive.anchor, bob];
    const rates: number[] = [], ratios: number[] = [];
    const cpus: number[][] = [], waits: number[][] = [];
    for (let r = 0; r < RUNS; r++) {
      await writeContent(`${dir}/relayed-${r}.bin`, SIZE);
      const bare = await bareRate(SIZE);
      const from = bob.events().length;
      const cpu0 = await Promise.all(procs.map((p) => cpuSeconds(p.child.pid)));
      const wait0 = await Promise.all(procs.map((p) => waitSeconds(p.child.pid)));
      const f = await call<{ id: string }>(alice, "file.send", {
        chat: "bob",
        path: `${dir}/relayed-${r}.bin`,
      });
      const t1 = performance.now();
      await bob.waitForEvent(
        "file",
        (e) => e.op === "complete" && e.side === "receive" && e.id === f.id,
        { timeoutMs: 600_000, after: from, what: "relayed transfer" },
      );
      const secs = (performance.now() - t1) / 1000;
      rates.push(SIZE / secs);
      ratios.push(SIZE / secs / bare);
      const cpu1 = await Promise.all(procs.map((p) => cpuSeconds(p.child.pid)));
      const wait1 = await Promise.all(procs.map((p) => waitSeconds(p.child.pid)));
      cpus.push(cpu1.map((c, i) => (100 * (c - cpu0[i]!)) / secs));
      waits.push(wait1.map((w, i) => (100 * (w - wait0[i]!)) / secs));
    }
    const pct = (xs: number[][], i: number) => `${median(xs.map((c) => c[i]!)).toFixed(0)}%`;
    const cpu = [0, 1, 2].map((i) => `${pct(cpus, i)} (waiting for a CPU ${pct(waits, i)})`);
    return [{
      name: `relayed transfer (through the anchor, three processes), ${RUNS} runs`,
      value: median(rates) / 1e6,
      unit: "MB/s",
      note: `${(100 * median(ratios)).toFixed(0)}% of bare in the same round (target >= 40%); ` +
        `CPU of sender, anchor, receiver ${cpu.join(", ")}`,
    }];
  } finally {
    await hive.close();
  }
}

/** Sends the file at `path` from `from` into `chat`; resolves with the seconds until each of `to` holds it. */
async function timedSend(
  from: NodeProcess,
  to: readonly NodeProcess[],
  chat: string,
  path: string,
): Promise<number> {
  const after = to.map((p) => p.events().length);
  const f = await call<{ id: string }>(from, "file.send", { chat, path });
  const t1 = performance.now();
  await Promise.all(to.map((p, i) =>
    p.waitForEvent(
      "file",
      (e) => e.op === "complete" && e.side === "receive" && e.id === f.id,
      { timeoutMs: 600_000, after: after[i]!, what: `${chat}'s file` },
    )
  ));
  return (performance.now() - t1) / 1000;
}

/**
 * A file sent to a group of five (direct sessions between all, five
 * processes), until every other member holds it; beside a 1:1 file from the
 * founder to one of them and a bare run, in the same round.
 */
async function groupRows(dir: string): Promise<Row[]> {
  const fileArgs = ["--max-file-size", String(4 * SIZE)];
  const g = await directMembers(`${dir}/group`, "127.42.0", GROUP, fileArgs);
  try {
    const [alice, ...others] = g.members as [NodeProcess, ...NodeProcess[]];
    await call(alice, "group.create", { name: "bench" });
    await call(alice, "group.add", { group: "bench", members: GROUP.slice(1) });
    for (const o of others) {
      await until(
        async () =>
          (await call<{ name: string }[]>(o, "group.members", { group: "bench" })
            .catch(() => [])).length === GROUP.length,
        30_000,
        "every member in the group",
      );
    }
    const group: number[] = [], single: number[] = [], ratios: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      await writeContent(`${dir}/one-${r}.bin`, SIZE);
      await writeContent(`${dir}/group-${r}.bin`, SIZE);
      const bare = await bareRate(SIZE);
      single.push(await timedSend(alice, [others[0]!], GROUP[1]!, `${dir}/one-${r}.bin`));
      group.push(await timedSend(alice, others, "bench", `${dir}/group-${r}.bin`));
      ratios.push(SIZE / group.at(-1)! / bare);
    }
    return [
      {
        name: `1:1 file beside it (alice to bob, five processes up), ${RUNS} runs`,
        value: median(single),
        unit: "s",
        note: `${(SIZE / median(single) / 1e6).toFixed(1)} MB/s`,
      },
      {
        name: `group of ${GROUP.length}: until all ${others.length} others hold it, ${RUNS} runs`,
        value: median(group),
        unit: "s",
        note: `${(median(group) / median(single)).toFixed(1)}x the 1:1 time; ` +
          `${(100 * median(ratios)).toFixed(0)}% of bare per member in the same round`,
      },
    ];
  } finally {
    await g.close();
  }
}

/**
 * Seconds a process's main (JS) thread waited for a CPU while runnable, so
 * far (/proc/PID/schedstat): when it is a large part of a transfer, the
 * machine's load, not the protocol, set the pace.
 */
async function waitSeconds(pid: number): Promise<number> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/schedstat`], stdout: "piped" })
    .output();
  return Number(new TextDecoder().decode(out.stdout).split(" ")[1]) / 1e9;
}

/** User and system CPU seconds a process used so far (/proc/PID/stat, read through cat like memoryOf). */
async function cpuSeconds(pid: number): Promise<number> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stdout: "piped" })
    .output();
  const fields = new TextDecoder().decode(out.stdout).replace(/^.*\) /s, "").split(" ");
  // After the command name: utime and stime are fields 14 and 15 of stat(5), in clock ticks.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
