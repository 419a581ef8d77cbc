/**
 * 1:1 delivery between two node processes (alice and bob spawned as `roj
 * run`, as in real use): the time from alice's `send` on her control socket
 * until bob's `follow` tells the message. In one process (chat_bench.ts's
 * figure) both nodes share a thread, so work one side overlaps with the other
 * side's (alice's commit with bob's merge) cannot show there.
 */
import { initProfile } from "../../node/home/mod.ts";
import { addByInvite, spawnNode } from "../../testing/processes.ts";
import { tempDir } from "../../testing/temp.ts";

/** "host:port" with a port free on `host` now. */
function freeAddress(host: string): string {
  const l = Deno.listen({ hostname: host, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return `${host}:${port}`;
}

/** Times in ms of `n` messages sent one at a time (after `warmup` not timed). */
export async function twoProcessLatencies(n: number, warmup: number): Promise<number[]> {
  await using d = await tempDir("roj-bench-");
  const aDir = `${d.path}/alice`, bDir = `${d.path}/bob`;
  (await initProfile(aDir, { name: "alice" })).store.close();
  (await initProfile(bDir, { name: "bob" })).store.close();
  const a = await spawnNode(aDir, freeAddress("127.0.0.2"), "alice");
  const b = await spawnNode(bDir, freeAddress("127.0.0.3"), "bob");
  try {
    await addByInvite(a, b);
    const ca = await a.control(), cb = await b.control();
    try {
      const waiting = new Map<string, () => void>();
      const following = cb.follow({}, (e) => {
        if (e.type === "message") waiting.get(e.message.body)?.();
      });
      following.catch(() => {});
      // The follow is on once a first event of bob's (his own note) comes through it.
      const on = new Promise<void>((resolve) => waiting.set("bench: follow is on", resolve));
      await cb.call("note", { text: "bench: follow is on" });
      await Promise.race([on, new Promise((r) => setTimeout(r, 1000))]);
      const times: number[] = [];
      for (let i = 0; i < n + warmup; i++) {
        const text = `latency probe ${i}, about as long as a short chat message`;
        const arrived = new Promise<void>((resolve) => waiting.set(text, resolve));
        const t0 = performance.now();
        await ca.call("send", { chat: "bob", text });
        await arrived;
        waiting.delete(text);
        if (i >= warmup) times.push(performance.now() - t0);
      }
      return times;
    } finally {
      await ca.close();
      await cb.close();
    }
  } finally {
    await a.stop();
    await b.stop();
  }
}
