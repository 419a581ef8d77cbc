/**
 * The bench's 1:1 catch-up alone, for profiling: `deno run -A --cpu-prof
 * scripts/bench/catchup_profile.ts [entries] [runs]`. Each run prints the
 * rate and the process's CPU time per entry (both nodes and the verifier
 * workers), a figure that a busy machine disturbs less than the rate. The
 * catch-up is bracketed in the profile by two 30 ms spins, `markStart` and
 * `markEnd`, so a profile can be cut to it.
 */
import process from "node:process";
import { befriend, startTestNode } from "../../testing/nodes.ts";

const n = Number(Deno.args[0] ?? 20_000);
const runs = Number(Deno.args[1] ?? 1);

function spin(ms: number): void {
  const t = performance.now();
  while (performance.now() - t < ms) { /* a mark in the profile */ }
}
const markStart = () => spin(30);
const markEnd = () => spin(30);

for (let r = 0; r < runs; r++) {
  await using alice = await startTestNode("alice", { host: "127.0.0.2" });
  const first = await startTestNode("bob", { host: "127.0.0.3" });
  const dir = first.dir;
  try {
    await befriend(alice, first);
    const port = first.node.address!.port;
    await first.stop();
    const chat = alice.node.chat("bob").id;
    for (let i = 0; i < n; i += 1000) {
      const items = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
        type: "msg",
        body: `catch-up message ${i + j}, about as long as a short chat message`,
      }));
      await alice.node.log.appendMany(chat, alice.node.signer, items);
    }
    markStart();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await using bob = await startTestNode("bob", { host: "127.0.0.3", port, dir });
    let count = bob.events.filter((e) => e.type === "message" && !e.message.mine).length;
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    const stop = bob.node.subscribe((e) => {
      if (e.type === "message" && !e.message.mine && ++count >= n) done();
    });
    if (count < n) await all;
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    markEnd();
    stop();
    console.log(
      `run ${r}: ${secs.toFixed(2)} s, ${Math.round(n / secs)} entries/s, CPU ${
        Math.round((cpu.user + cpu.system) / n)
      } µs/entry`,
    );
  } finally {
    await first.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
