/**
 * File transfer figures (issue 15), all against the bare ssh2 bulk rate
 * measured in the same run (one SSH connection between two fresh keys,
 * 256 KiB writes on the roj subsystem, nothing else):
 *
 * - direct: a file between two `roj run` processes over loopback, from the
 *   signed entry to the receiver's last verified chunk (target: >= 50% of
 *   bare), and the peak RSS of both sides from /proc (target: +64 MiB for
 *   1 GiB);
 * - relayed: the same between two in-process nodes that reach each other only
 *   through an anchor splicing their SSH session (its per-member cap raised
 *   out of the way; target: >= 40% of bare);
 * - kill -9 of the receiver at 50%: the bytes it fetched after its restart.
 *
 * ROJ_BENCH_FILE_MIB sets the file size (default 256; 8 for a smoke run);
 * ROJ_BENCH_FILE_PARTS=relayed runs only the relayed transfer (and bare).
 */
import {
  memoryOf,
  processPair,
  sendFileFrom as sendFrom,
  writeRandomFile as writeContent,
} from "../../testing/files.ts";
import { befriend, startTestNode, until } from "../../testing/nodes.ts";
import type { Row } from "./_measure.ts";
import { countBytes, sshPair } from "./_pairs.ts";

const MiB = 1024 * 1024;
const SIZE = Number(Deno.env.get("ROJ_BENCH_FILE_MIB") ?? 256) * MiB;
const CHUNK = 256 * 1024;
const PARTS = new Set((Deno.env.get("ROJ_BENCH_FILE_PARTS") ?? "direct,relayed").split(","));
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

    // Relayed, in process: an anchor splices the SSH session.
    const hive = await startTestNode("hive", {
      host: "127.41.0.1",
      passive: true,
      relay: { bytesPerSecondPerMember: 16 * 1024 * MiB },
    });
    const a0 = await startTestNode("alice", { host: "127.41.0.2" });
    const b0 = await startTestNode("bob", { host: "127.41.0.3", maxFileSize: 4 * SIZE });
    try {
      await befriend(a0, b0);
      for (const m of [a0, b0]) {
        await m.node.call("add", { invite: (await hive.node.call("invite", {})).text });
      }
      await a0.stop();
      await b0.stop();
      await using alice = await startTestNode("alice", {
        host: "127.41.0.2",
        dir: a0.dir,
        advertise: ["127.41.0.2:1"],
        quic: false,
      });
      await using bob = await startTestNode("bob", {
        host: "127.41.0.3",
        dir: b0.dir,
        advertise: ["127.41.0.3:1"],
        quic: false,
        maxFileSize: 4 * SIZE,
      });
      await until(
        async () =>
          (await alice.node.call("peers", {})).find((x) => x.name === "bob")?.path === "relayed",
        30_000,
        "the relayed session",
      );
      await writeContent(`${dir}/third.bin`, SIZE);
      const f = await alice.node.call("file.send", { chat: "bob", path: `${dir}/third.bin` });
      const t1 = performance.now();
      await bob.waitFor((e) => e.type === "file" && e.op === "complete" && e.id === f.id, 600_000);
      const rate = SIZE / ((performance.now() - t1) / 1000);
      rows.push({
        name: "relayed transfer (through the anchor)",
        value: mb(rate),
        unit: "MB/s",
        note: `${((100 * rate) / bare).toFixed(0)}% of bare (target >= 40%)`,
      });
    } finally {
      await hive[Symbol.asyncDispose]();
      for (const n of [a0, b0]) await n[Symbol.asyncDispose]();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return rows;
}
