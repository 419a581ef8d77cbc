/** For tests and benches of files (node/files): big random files, a pair of `roj run` processes, their memory. */
import { initProfile } from "../node/home/mod.ts";
import { addByInvite, type NodeProcess, spawnNode } from "./processes.ts";
import { freePort } from "./cli_run.ts";

const MiB = 1024 * 1024;

/** Writes `size` random bytes to `path`, a MiB at a time. */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const block = new Uint8Array(MiB);
    for (let at = 0; at < size; at += MiB) {
      for (let i = 0; i < MiB; i += 65536) crypto.getRandomValues(block.subarray(i, i + 65536));
      await f.write(block.subarray(0, Math.min(MiB, size - at)));
    }
  } finally {
    f.close();
  }
}

/** Peak (VmHWM) and current (VmRSS) resident memory of a process, read through cat (Deno reads /proc only with -A). */
export async function memoryOf(pid: number): Promise<{ hwm: number; rss: number }> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stdout: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) * 1024;
  return { hwm: kb("VmHWM"), rss: kb("VmRSS") };
}

/** alice and bob as `roj run` processes on free loopback ports, contacts with a session up. */
export interface ProcessPair {
  readonly a: NodeProcess;
  /** The current bob (a new process after restartB). */
  readonly b: NodeProcess;
  restartB(): Promise<NodeProcess>;
  close(): Promise<void>;
}

export async function processPair(
  dir: string,
  hosts: readonly [string, string],
  args: readonly string[] = [],
): Promise<ProcessPair> {
  const aDir = `${dir}/alice`, bDir = `${dir}/bob`;
  (await initProfile(aDir, { name: "alice" })).store.close();
  (await initProfile(bDir, { name: "bob" })).store.close();
  const bAddr = `${hosts[1]}:${freePort(hosts[1])}`;
  const all = ["--no-punch", "--no-upnp", ...args];
  const a = await spawnNode(aDir, `${hosts[0]}:${freePort(hosts[0])}`, "alice", { args: all });
  let b: NodeProcess;
  try {
    b = await spawnNode(bDir, bAddr, "bob", { args: all });
  } catch (err) {
    await a.stop();
    throw err;
  }
  try {
    await addByInvite(a, b);
    await a.waitForEvent("session", (e) => e.state === "up" && e.peer === "bob");
  } catch (err) {
    await a.stop();
    await b.stop();
    throw err;
  }
  return {
    a,
    get b() {
      return b;
    },
    restartB: async () => (b = await spawnNode(bDir, bAddr, "bob", { args: all })),
    close: async () => {
      await a.stop();
      await b.stop();
    },
  };
}

/** alice sends the file at `path` to bob. */
export async function sendFileFrom(a: NodeProcess, path: string) {
  const c = await a.control();
  try {
    return await c.call("file.send", { chat: "bob", path });
  } finally {
    await c.close();
  }
}
