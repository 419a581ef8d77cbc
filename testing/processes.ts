/**
 * Real `roj run` processes for tests that kill, restart and talk to them over
 * the control socket. Each runs with `--events FILE` in its data folder, and
 * the test reads what it told from there: `events()` so far, and
 * `waitForEvent` for one to come. Tests wait on those, never on log lines;
 * `output()` is for people when a test fails.
 */
import { connectControl, type ControlClient } from "../node/control/mod.ts";
import type { NodeEvent, PeerView } from "../node/api/mod.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
/** The runtime flags deno.json's `roj`, `start` and `compile` tasks give a node, so tests and benches run it alike. */
export const NODE_RUN_FLAGS: readonly string[] = [
  "--v8-flags=--max-semi-space-size=4,--heap-growing-percent=30,--expose-gc,--external-memory-max-growing-factor=2",
];

/** `deno run`, the node's runtime flags and the permissions `roj` needs, before the script. */
const RUN_MAIN = [
  "run",
  "--quiet",
  ...NODE_RUN_FLAGS,
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-sys",
] as const;

/** The events of one type. */
export type EventOf<T extends NodeEvent["type"]> = Extract<NodeEvent, { readonly type: T }>;

export interface WaitOptions {
  /** @default 10000 */
  readonly timeoutMs?: number;
  /** What is waited for, for the error. */
  readonly what?: string;
  /** Only events from this index of `events()` on count (e.g. `events().length` before a change). */
  readonly after?: number;
}

export interface NodeProcess {
  readonly dir: string;
  readonly child: Deno.ChildProcess;
  /** Output so far (stdout and stderr), for failure messages. */
  output(): string;
  /**
   * Every event the node told so far (read from its --events file), oldest
   * first. The file is read every 20 ms: what the control socket shows may be
   * a poll ahead, so wait (waitForEvent) for an event that goes with it.
   */
  events(): readonly NodeEvent[];
  /**
   * The first event of `type` that `match` takes, told before or after the
   * call (from `options.after` on).
   * @throws {Error} naming `options.what` when none comes in time or the node exits first
   */
  waitForEvent<T extends NodeEvent["type"]>(
    type: T,
    match?: (e: EventOf<T>) => boolean,
    options?: WaitOptions,
  ): Promise<EventOf<T>>;
  /** A fresh control connection to the running node. */
  control(): Promise<ControlClient>;
  /** SIGKILL: no chance to flush or say goodbye. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

interface Waiter {
  readonly test: (e: NodeEvent, index: number) => boolean;
  resolve(e: NodeEvent): void;
  fail(why: string): void;
}

/**
 * Follows a node's --events file until `exited` settles (then reads what is
 * left): its events, and the waiters they settle.
 */
async function followEvents(path: string, exited: Promise<unknown>) {
  const events: NodeEvent[] = [];
  const waiters = new Set<Waiter>();
  const file = await Deno.open(path, { read: true });
  const decoder = new TextDecoder();
  const buf = new Uint8Array(64 * 1024);
  let partial = "";
  let over = false;
  const drain = async () => {
    for (let n = await file.read(buf); n; n = await file.read(buf)) {
      partial += decoder.decode(buf.subarray(0, n), { stream: true });
    }
    const lines = partial.split("\n");
    partial = lines.pop()!;
    for (const line of lines.filter((l) => l)) {
      const e = JSON.parse(line) as NodeEvent;
      events.push(e);
      for (const w of waiters) if (w.test(e, events.length - 1)) w.resolve(e);
    }
  };
  let done = false;
  exited.finally(() => (done = true));
  const following = (async () => {
    try {
      while (!done) {
        await drain();
        await new Promise((r) => setTimeout(r, 20));
      }
      await drain();
    } finally {
      over = true;
      file.close();
      for (const w of waiters) w.fail("the node exited first");
    }
  })();
  const wait = (test: (e: NodeEvent, index: number) => boolean, timeoutMs: number) =>
    new Promise<NodeEvent>((resolve, reject) => {
      const past = events.findIndex((e, i) => test(e, i));
      if (past >= 0) return resolve(events[past]!);
      if (over) return reject(new Error("the node exited first"));
      const timer = setTimeout(() => w.fail(`none in ${timeoutMs} ms`), timeoutMs);
      const w: Waiter = {
        test,
        resolve: (e) => (waiters.delete(w), clearTimeout(timer), resolve(e)),
        fail: (why) => (waiters.delete(w), clearTimeout(timer), reject(new Error(why))),
      };
      waiters.add(w);
    });
  return { events, wait, following };
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
 * Starts `roj run --data dir --listen listen --events <a file in dir>` (no
 * --listen, the default, when `listen` is null) and waits for its control socket.
 */
export async function spawnNode(
  dir: string,
  listen: string | null,
  name = "node",
  options: SpawnOptions = {},
): Promise<NodeProcess> {
  // A file of its own per run: a node started again in the folder tells afresh.
  const eventsFile = await Deno.makeTempFile({ dir, prefix: "events-", suffix: ".jsonl" });
  const deno = [
    Deno.execPath(),
    ...RUN_MAIN,
    options.main ?? MAIN,
    "run",
    "--data",
    dir,
    ...(listen === null ? [] : ["--listen", listen]),
    "--no-web",
    // Outside a lab namespace, no multicast onto the machine's own network.
    ...(options.netns ? [] : ["--no-lan"]),
    "--events",
    eventsFile,
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
  const told = await followEvents(eventsFile, done);
  let exited = false;
  done.then(() => exited = true);
  const end = Date.now() + 20_000;
  for (;;) {
    try {
      const c = await connectControl(dir);
      await c.call("status", {});
      await c.close();
      break;
    } catch {
      if (exited) {
        await Promise.all([pumping, told.following]);
        throw new Error(`node in ${dir} exited as it started:\n${out}`);
      }
      if (Date.now() > end) {
        try {
          child.kill("SIGKILL");
        } catch { /* it exited by itself */ }
        await Promise.all([done, pumping, told.following]);
        throw new Error(`node in ${dir} did not start:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    dir,
    child,
    output: () => out,
    events: () => told.events,
    waitForEvent: async <T extends NodeEvent["type"]>(
      type: T,
      match: (e: EventOf<T>) => boolean = () => true,
      o: WaitOptions = {},
    ) => {
      const after = o.after ?? 0;
      const timeoutMs = o.timeoutMs ?? 10_000;
      try {
        return await told.wait(
          (e, i) => i >= after && e.type === type && match(e as EventOf<T>),
          timeoutMs,
        ) as EventOf<T>;
      } catch (err) {
        throw new Error(
          `${name}: no ${type} event ${o.what ? `(${o.what}) ` : ""}came: ${
            (err as Error).message
          }`,
        );
      }
    },
    control: () => connectControl(dir),
    kill9: async () => {
      if (!exited) child.kill("SIGKILL");
      await done;
      await pumping;
      await told.following;
    },
    stop: async () => {
      if (!exited) child.kill("SIGTERM");
      await done;
      await pumping;
      await told.following;
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

/** `b` adds `a` from a fresh invite of `a`'s (so `b` dials `a`), through their control sockets. */
export async function addByInvite(a: NodeProcess, b: NodeProcess): Promise<void> {
  const invite = await callNode(a, "invite", {}) as { text: string };
  await callNode(b, "add", { invite: invite.text });
}

/** What a node process's `peers` says of the contact `name`. */
export async function peerOf(p: NodeProcess, name: string): Promise<PeerView | undefined> {
  return (await callNode(p, "peers", {}) as PeerView[]).find((x) => x.name === name);
}

/** A `roj init --join` process (no node runs in its folder), with the steps it told. */
export interface JoinProcess {
  /** Resolves once it told `step` (node/linking/join.ts JoinStep). @throws {Error} when it exits first */
  waitForStep(step: string, timeoutMs?: number): Promise<void>;
  /** Its exit code, stdout and stderr once it exits. */
  readonly done: Promise<{ code: number; stdout: string; stderr: string }>;
  /** SIGKILL, then what it had said. */
  kill9(): Promise<{ code: number; stdout: string; stderr: string }>;
}

/**
 * Spawns `roj init --data dir --join code --name name --json --events FILE`;
 * with `hold`, linking waits for good after that step ($ROJ_TEST_JOIN_HOLD),
 * for the test to kill it there.
 */
export async function spawnJoin(
  dir: string,
  code: string,
  name: string,
  hold?: string,
): Promise<JoinProcess> {
  const eventsFile = await Deno.makeTempFile({ prefix: "join-events-", suffix: ".jsonl" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...RUN_MAIN,
      MAIN,
      "init",
      "--data",
      dir,
      "--join",
      code,
      "--name",
      name,
      "--json",
      "--events",
      eventsFile,
    ],
    env: { NO_COLOR: "1", ...(hold ? { ROJ_TEST_JOIN_HOLD: hold } : {}) },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const dec = new TextDecoder();
  const output = Promise.all([
    new Response(child.stdout).arrayBuffer(),
    new Response(child.stderr).arrayBuffer(),
  ]);
  const done = (async () => {
    const [status, [out, err]] = await Promise.all([child.status, output]);
    return { code: status.code, stdout: dec.decode(out), stderr: dec.decode(err) };
  })();
  const told = await followEvents(eventsFile, done);
  const finished = done.then(async (r) => {
    await told.following;
    await Deno.remove(eventsFile).catch(() => {});
    return r;
  });
  return {
    waitForStep: async (step, timeoutMs = 20_000) => {
      await told.wait((e) => (e as unknown as { step?: string }).step === step, timeoutMs);
    },
    done: finished,
    kill9: () => {
      try {
        child.kill("SIGKILL");
      } catch { /* it exited by itself */ }
      return finished;
    },
  };
}
