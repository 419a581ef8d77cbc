/**
 * The NAT lab (scripts/netlab.sh) for tests: network namespaces behind real
 * nftables NAT, set up per test and torn down after it.
 *
 *   const lab = netlabUnavailable() ? null : await startNetLab({ symmetricB: true });
 *   await using _ = lab;
 *   await lab.run("homeA", ["ip", "-br", "addr"]);
 *
 * A test that needs the lab registers with `labTest`, which skips it with the
 * reason in its name where the lab cannot run (not root, no `ip` or `nft`, no
 * permission to make namespaces).
 */
import { initProfile } from "../node/home/mod.ts";
import { RojNode } from "../node/node.ts";
import { startTestNode, type TestNode } from "./nodes.ts";
import { type NodeProcess, spawnNode } from "./processes.ts";

const SCRIPT = new URL("../scripts/netlab.sh", import.meta.url).pathname;

/** The hosts of the lab and their addresses (see scripts/netlab.sh). */
export const LAB = {
  wan: "10.99.0.1",
  natA: "10.99.0.2",
  natB: "10.99.0.3",
  homeA: "192.168.50.2",
  homeB: "192.168.60.2",
  /** Only with `lanA: true`: two more hosts on home network A's switch. */
  homeA2: "192.168.50.3",
  homeA3: "192.168.50.4",
} as const;

/** Only with `ipv6: true`: global IPv6 addresses, routed without NAT. */
export const LAB6 = {
  wan: "2001:db8:99::1",
  homeA: "2001:db8:50::2",
  homeB: "2001:db8:60::2",
} as const;
export type LabHost = keyof typeof LAB;

/** Only with `sideAB: "ipv4"`: homeA's and homeB's addresses on their shared second network. */
export const SIDE = { homeA: "192.168.77.2", homeB: "192.168.77.3" } as const;
/** Only with `sideAB: "ipv6"`: the same, on an IPv6-only network. */
export const SIDE6 = { homeA: "2001:db8:77::2", homeB: "2001:db8:77::3" } as const;

function onPath(tool: string): boolean {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/sbin"]);
  return dirs.some((d) => {
    try {
      return Deno.statSync(`${d}/${tool}`).isFile;
    } catch {
      return false;
    }
  });
}

let unavailable: string | undefined | null = null;

/** Why the lab cannot run here, or undefined when it can. Checked once. */
export function netlabUnavailable(): string | undefined {
  if (unavailable !== null) return unavailable;
  unavailable = (() => {
    if (Deno.build.os !== "linux") return "the NAT lab needs Linux network namespaces";
    if (Deno.uid() !== 0) return "the NAT lab needs root (network namespaces, nftables)";
    for (const tool of ["ip", "nft"]) {
      if (!onPath(tool)) return `the NAT lab needs '${tool}' (apt-get install iproute2 nftables)`;
    }
    const probe = `rojprobe${Deno.pid}`;
    const add = new Deno.Command("ip", { args: ["netns", "add", probe], stderr: "piped" })
      .outputSync();
    if (!add.success) {
      return `cannot make network namespaces here: ${new TextDecoder().decode(add.stderr).trim()}`;
    }
    new Deno.Command("ip", { args: ["netns", "del", probe] }).outputSync();
    return undefined;
  })();
  return unavailable;
}

/**
 * Deno.test that skips, saying why, where the lab cannot run or a tool it
 * also needs (`tools`, e.g. ["conntrack"]) is missing.
 */
export function labTest(
  name: string,
  fn: () => Promise<void>,
  options: { tools?: readonly string[] } = {},
): void {
  const missing = options.tools?.find((t) => !onPath(t));
  const why = netlabUnavailable() ??
    (missing ? `needs '${missing}' (apt-get install ${missing})` : undefined);
  Deno.test({
    name: why ? `${name} (skipped: ${why})` : name,
    ignore: why !== undefined,
    fn,
  });
}

export interface NetLab extends AsyncDisposable {
  /** The namespace name of a lab host ("roj123-homeA"). */
  ns(host: LabHost): string;
  /** Runs a command inside a host's namespace and returns its output; throws on failure. */
  run(host: LabHost, cmd: string[]): Promise<string>;
  /** A Deno.Command that runs `cmd` inside a host's namespace. */
  command(host: LabHost, cmd: string[], options?: Deno.CommandOptions): Deno.Command;
  /** Removes the lab's namespaces (also done on dispose). */
  teardown(): Promise<void>;
}

export interface NetLabOptions {
  /** natB maps each destination to a new port, like a symmetric NAT. @default false */
  readonly symmetricB?: boolean;
  /** Home network A is a switch with homeA2 and homeA3 on it too. @default false */
  readonly lanA?: boolean;
  /** Global IPv6 on wan, homeA and homeB too (LAB6). @default false */
  readonly ipv6?: boolean;
  /**
   * homeA and homeB also share a second network that is not their default
   * route (eth1, SIDE or SIDE6), over IPv4 or IPv6 only.
   */
  readonly sideAB?: "ipv4" | "ipv6";
}

async function script(prefix: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("bash", {
    args: [SCRIPT, ...args],
    env: { NETLAB_PREFIX: prefix },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const dec = new TextDecoder();
    throw new Error(
      `netlab.sh ${args.join(" ")} failed: ${dec.decode(out.stderr)}${dec.decode(out.stdout)}`,
    );
  }
}

/**
 * Each lab records the test process that owns it, so that a later run can tear
 * down the labs of a run that was killed (SIGKILL skips every dispose) instead
 * of leaving their namespaces and routers behind for good.
 */
const OWNERS = "/run/roj-netlab";

/**
 * Whether process `pid` runs. Deno 2.9 stats /proc only with --allow-all, and
 * `deno task test` runs without it: then `kill -0` answers. When neither can,
 * the process counts as alive, so that a lab in use is never torn down (a
 * denied stat taken for "dead" tore down the labs of concurrent runs).
 */
async function processAlive(pid: string): Promise<boolean> {
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
  }
  try {
    const out = await new Deno.Command("kill", {
      args: ["-0", pid],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return true;
  }
}

async function sweepOrphanLabs(): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(OWNERS));
  } catch {
    return; // no lab ever recorded here
  }
  for (const entry of entries) {
    const prefix = entry.name.replace(/\.pid$/, "");
    if (!/^[a-zA-Z0-9]{1,10}$/.test(prefix)) continue;
    const pid = (await Deno.readTextFile(`${OWNERS}/${entry.name}`).catch(() => "")).trim();
    if (!/^\d+$/.test(pid) || await processAlive(pid)) continue;
    await script(prefix, ["teardown"]).catch(() => {});
    await Deno.remove(`${OWNERS}/${entry.name}`).catch(() => {});
  }
}

/** Sets up a fresh lab under its own namespace names (so concurrent labs do not meet). */
export async function startNetLab(options: NetLabOptions = {}): Promise<NetLab> {
  const why = netlabUnavailable();
  if (why) throw new Error(why);
  await sweepOrphanLabs();
  const prefix = `r${Deno.pid % 100_000}${Math.floor(Math.random() * 1000)}`;
  await Deno.mkdir(OWNERS, { recursive: true });
  await Deno.writeTextFile(`${OWNERS}/${prefix}.pid`, `${Deno.pid}\n`);
  await script(prefix, [
    "setup",
    ...(options.symmetricB ? ["--symmetric-b"] : []),
    ...(options.lanA ? ["--lan-a"] : []),
    ...(options.ipv6 ? ["--ipv6"] : []),
    ...(options.sideAB === "ipv4"
      ? ["--side-ab"]
      : options.sideAB === "ipv6"
      ? ["--side-ab6"]
      : []),
  ]);
  const names: Record<LabHost, string> = {
    wan: `${prefix}-wan`,
    natA: `${prefix}-natA`,
    natB: `${prefix}-natB`,
    homeA: `${prefix}-homeA`,
    homeB: `${prefix}-homeB`,
    homeA2: `${prefix}-homeA2`,
    homeA3: `${prefix}-homeA3`,
  };
  const command = (host: LabHost, cmd: string[], opts: Deno.CommandOptions = {}) =>
    new Deno.Command("ip", { ...opts, args: ["netns", "exec", names[host], ...cmd] });
  let down = false;
  const teardown = async () => {
    if (down) return;
    down = true;
    await script(prefix, ["teardown"]);
    await Deno.remove(`${OWNERS}/${prefix}.pid`).catch(() => {});
  };
  return {
    ns: (host) => names[host],
    command,
    async run(host, cmd) {
      const out = await command(host, cmd, { stdout: "piped", stderr: "piped" }).output();
      const dec = new TextDecoder();
      if (!out.success) throw new Error(`${cmd.join(" ")} in ${host}: ${dec.decode(out.stderr)}`);
      return dec.decode(out.stdout);
    },
    teardown,
    [Symbol.asyncDispose]: teardown,
  };
}

/** A contact to write into a data folder before its node first starts. */
export interface SeedContact {
  readonly publicKey: Uint8Array;
  readonly name: string;
  readonly addresses?: string[];
  readonly anchor?: boolean;
}

/** A new data folder with an identity, for a node that starts later. */
export async function makeDataDir(name: string): Promise<{ dir: string; publicKey: Uint8Array }> {
  const dir = await Deno.makeTempDir({ prefix: `roj-${name}-` });
  const profile = await initProfile(dir, { name });
  profile.store.close();
  return { dir, publicKey: profile.keyPair.publicKey };
}

/** Writes contacts straight into a data folder (no invites: NATed peers cannot redeem one). */
export async function seedContacts(dir: string, contacts: readonly SeedContact[]): Promise<void> {
  const node = await RojNode.open({ dataDir: dir });
  try {
    for (const c of contacts) {
      await node.contacts.add(c.publicKey, c.name, c.addresses ?? [], Date.now(), ["notes"]);
      if (c.anchor) await node.contacts.update(c.publicKey, { anchor: true });
    }
  } finally {
    await node.close();
  }
}

function freePort(host: string): number {
  const l = Deno.listen({ hostname: host, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

type DataDir = Awaited<ReturnType<typeof makeDataDir>>;

/**
 * Data folders for alice, bob and their anchor, all contacts: alice and bob
 * know the anchor at `anchorAt` and each other at no address.
 */
async function seedAnchoredPair(
  anchorAt: string,
): Promise<{ a: DataDir; b: DataDir; anchor: DataDir }> {
  const [a, b, anchor] = await Promise.all([
    makeDataDir("alice"),
    makeDataDir("bob"),
    makeDataDir("anchor"),
  ]);
  await seedContacts(anchor.dir, [
    { publicKey: a.publicKey, name: "alice" },
    { publicKey: b.publicKey, name: "bob" },
  ]);
  for (const [me, other, otherName] of [[a, b, "bob"], [b, a, "alice"]] as const) {
    await seedContacts(me.dir, [
      { publicKey: anchor.publicKey, name: "anchor", addresses: [anchorAt], anchor: true },
      { publicKey: other.publicKey, name: otherName },
    ]);
  }
  return { a, b, anchor };
}

export interface PunchTrio extends AsyncDisposable {
  readonly alice: TestNode;
  readonly bob: TestNode;
  readonly anchor: TestNode;
}

/**
 * Alice, bob and their anchor in this process on loopback, all contacts.
 * Alice and bob publish addresses where nothing listens, so they cannot dial
 * each other: the only way they meet is a punched QUIC path the anchor
 * introduces them on. `hosts` are three loopback addresses.
 */
export async function startPunchTrio(
  hosts: readonly [string, string, string],
): Promise<PunchTrio> {
  const anchorAt = `${hosts[2]}:${freePort(hosts[2])}`;
  const { a, b, anchor } = await seedAnchoredPair(anchorAt);
  const nodes: TestNode[] = [];
  const dispose = async () => {
    for (const n of nodes) await n.stop();
    for (const d of [a.dir, b.dir, anchor.dir]) {
      await Deno.remove(d, { recursive: true }).catch(() => {});
    }
  };
  try {
    nodes.push(
      await startTestNode("anchor", {
        dir: anchor.dir,
        host: hosts[2],
        port: Number(anchorAt.split(":")[1]),
        passive: true,
      }),
    );
    // Port 9 (discard) on an address nobody uses: direct dials are refused.
    nodes.push(
      await startTestNode("alice", { dir: a.dir, host: hosts[0], advertise: ["127.0.0.254:9"] }),
    );
    nodes.push(
      await startTestNode("bob", { dir: b.dir, host: hosts[1], advertise: ["127.0.0.254:9"] }),
    );
  } catch (err) {
    await dispose();
    throw err;
  }
  return { anchor: nodes[0]!, alice: nodes[1]!, bob: nodes[2]!, [Symbol.asyncDispose]: dispose };
}

/** The processes of a lab hive and a way to start one of them again elsewhere. */
export interface LabHive extends AsyncDisposable {
  readonly alice: NodeProcess;
  readonly bob: NodeProcess;
  readonly anchor: NodeProcess;
  /** Starts a node of the hive (stopped before) with its data folder in another host's namespace. */
  restart(
    node: "alice" | "bob",
    host: LabHost,
    listen: string,
  ): Promise<NodeProcess>;
}

/**
 * An anchor on the wan (10.99.0.1:7022), alice in homeA and bob in homeB,
 * all contacts, none knowing where the other two are. Each runs as its own
 * `roj run` process in its namespace (the anchor runs `anchorMain` instead
 * when given, e.g. testing/tapped_anchor.ts).
 */
export async function startLabHive(
  lab: NetLab,
  options: { anchorMain?: string } = {},
): Promise<LabHive> {
  const anchorAt = `${LAB.wan}:7022`;
  const { a, b, anchor } = await seedAnchoredPair(anchorAt);
  const started: NodeProcess[] = [];
  const stopAll = async () => {
    await Promise.all(started.map((p) => p.stop()));
    for (const d of [a.dir, b.dir, anchor.dir]) {
      await Deno.remove(d, { recursive: true }).catch(() => {});
    }
  };
  const spawn = async (
    dir: string,
    listen: string,
    name: string,
    host: LabHost,
    args: string[] = [],
    main?: string,
  ) => {
    const p = await spawnNode(dir, listen, name, {
      netns: lab.ns(host),
      args,
      ...(main ? { main } : {}),
    });
    started.push(p);
    return p;
  };
  try {
    const anchorNode = await spawn(
      anchor.dir,
      anchorAt,
      "anchor",
      "wan",
      ["--passive"],
      options.anchorMain,
    );
    const [alice, bob] = await Promise.all([
      spawn(a.dir, "0.0.0.0:7022", "alice", "homeA"),
      spawn(b.dir, "0.0.0.0:7022", "bob", "homeB"),
    ]);
    return {
      alice,
      bob,
      anchor: anchorNode,
      restart: (node, host, listen) => spawn(node === "alice" ? a.dir : b.dir, listen, node, host),
      [Symbol.asyncDispose]: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
