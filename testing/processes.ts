/** Real `roj run` processes for tests that kill, restart and talk to them over the control socket. */
import { connectControl, type ControlClient } from "../node/control/mod.ts";
import type { PeerView } from "../node/api/mod.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

export interface NodeProcess {
  readonly dir: string;
  readonly child: Deno.ChildProcess;
  /** Output so far (stdout and stderr), for failure messages. */
  output(): string;
  /** A fresh control connection to the running node. */
  control(): Promise<ControlClient>;
  /** SIGKILL: no chance to flush or say goodbye. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Run inside this network namespace (`ip netns exec`; see testing/netlab.ts). */
  readonly netns?: string;
  /** More `roj run` options, e.g. ["--passive"]. */
  readonly args?: readonly string[];
  /** Another entry script taking `roj run`'s arguments (e.g. testing/tapped_anchor.ts). @default main.ts */
  readonly main?: string;
  /** More environment variables for the node (e.g. ROJ_TEST_PORTMAP_LEASE_MS). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Starts `roj run --data dir --listen listen` (no --listen, the default, when
 * `listen` is null) and waits for its control socket.
 */
export async function spawnNode(
  dir: string,
  listen: string | null,
  name = "node",
  options: SpawnOptions = {},
): Promise<NodeProcess> {
  const deno = [
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-net",
    "--allow-sys",
    options.main ?? MAIN,
    "run",
    "--data",
    dir,
    ...(listen === null ? [] : ["--listen", listen]),
    "--no-web",
    // Outside a lab namespace, no multicast onto the machine's own network.
    ...(options.netns ? [] : ["--no-lan"]),
    ...(options.args ?? []),
  ];
  // `ip netns exec` execs the command, so the child is the node itself (signals reach it).
  const [cmd, ...args] = options.netns ? ["ip", "netns", "exec", options.netns, ...deno] : deno;
  const child = new Deno.Command(cmd!, {
    args,
    env: { ...options.env, USER: name, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const dec = new TextDecoder();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) out += dec.decode(chunk);
  };
  const pumping = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const done = child.status;
  const end = Date.now() + 20_000;
  for (;;) {
    try {
      const c = await connectControl(dir);
      await c.call("status", {});
      await c.close();
      break;
    } catch {
      if (Date.now() > end) throw new Error(`node in ${dir} did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  let exited = false;
  done.then(() => exited = true);
  return {
    dir,
    child,
    output: () => out,
    control: () => connectControl(dir),
    kill9: async () => {
      if (!exited) child.kill("SIGKILL");
      await done;
      await pumping;
    },
    stop: async () => {
      if (!exited) child.kill("SIGTERM");
      await done;
      await pumping;
    },
  };
}

/** One control call to a node process, on a connection of its own. */
export async function callNode(p: NodeProcess, method: string, params: unknown): Promise<unknown> {
  const c = await p.control();
  try {
    return await c.call(method as "status", params as Record<string, never>);
  } finally {
    await c.close();
  }
}

/** What a node process's `peers` says of the contact `name`. */
export async function peerOf(p: NodeProcess, name: string): Promise<PeerView | undefined> {
  return (await callNode(p, "peers", {}) as PeerView[]).find((x) => x.name === name);
}
