/**
 * Members and their anchor as `roj run` processes on loopback, for benches
 * of what moves through the anchor: each process has a thread (and a core,
 * when the machine has one free) of its own, as in real use. In one process
 * the sender, the relay and the receiver take turns on one thread, and the
 * figure is the bench's, not the protocol's.
 *
 * `relayedMembers` makes every member a contact of every other and of the
 * anchor, then restarts the members on fresh ports publishing a dead address
 * (port 1) and with no UDP: the anchor, splicing their SSH sessions, is their
 * only path to each other. `directMembers` stops at the contacts, with no
 * anchor: direct sessions between all.
 */
import { initProfile } from "../../node/home/mod.ts";
import { freePort } from "../../testing/cli_run.ts";
import { until } from "../../testing/nodes.ts";
import {
  addByInvite,
  callNode,
  type NodeProcess,
  peerOf,
  spawnNode,
} from "../../testing/processes.ts";

/** ROJ_BENCH_PROFILE=DIR: every process writes a V8 profile log there. */
const PROFILE = Deno.env.get("ROJ_BENCH_PROFILE");

export interface Members {
  /** In the order of `names`. */
  readonly members: readonly NodeProcess[];
  close(): Promise<void>;
}

export interface RelayedMembers extends Members {
  readonly anchor: NodeProcess;
}

/** Each a process of `names`, spawned with `args` on `base.2`, `base.3`, …, and a stop for all. */
function processes(dir: string, base: string) {
  const started = new Set<NodeProcess>();
  const close = async () => {
    await Promise.all([...started].map((p) => p.stop()));
    started.clear();
  };
  const spawn = async (name: string, host: string, more: readonly string[]) => {
    const p = await spawnNode(`${dir}/${name}`, `${host}:${freePort(host)}`, name, {
      args: ["--no-punch", "--no-upnp", ...more],
      // For a V8 profile of each process (`node --prof-process` reads the isolate logs).
      ...(PROFILE ? { env: { DENO_V8_FLAGS: `--prof,--logfile=${PROFILE}/${name}-%p.log` } } : {}),
    });
    started.add(p);
    return p;
  };
  const failed = async (err: unknown): Promise<never> => {
    for (const p of started) console.error(p.output());
    await close();
    throw err;
  };
  return { started, close, spawn, failed, hostOf: (i: number) => `${base}.${i + 2}` };
}

/** Every one of `members` a contact of every other, sessions up. */
async function allContacts(members: readonly NodeProcess[], names: readonly string[]) {
  for (let i = 0; i < members.length; i++) {
    for (let j = 0; j < i; j++) await addByInvite(members[j]!, members[i]!);
  }
  for (const [i, m] of members.entries()) {
    for (const [j, other] of names.entries()) {
      if (j === i) continue;
      await until(
        async () => (await peerOf(m, other))?.state === "connected",
        30_000,
        `${names[i]}'s session with ${other}`,
      );
    }
  }
}

/** `names` on hosts `base.2`, `base.3`, …, all contacts with direct sessions up; `args` go to each. */
export async function directMembers(
  dir: string,
  base: string,
  names: readonly string[],
  args: readonly string[] = [],
): Promise<Members> {
  const p = processes(dir, base);
  try {
    for (const name of names) (await initProfile(`${dir}/${name}`, { name })).store.close();
    const members = await Promise.all(names.map((n, i) => p.spawn(n, p.hostOf(i), args)));
    await allContacts(members, names);
    return { members, close: p.close };
  } catch (err) {
    return await p.failed(err);
  }
}

/**
 * `names` on hosts `base.2`, `base.3`, … and the anchor on `base.1`
 * (`base` like "127.41.0"), all contacts, reaching each other through the
 * anchor only once this resolves. `relayRate` is the anchor's --relay-rate;
 * `args` go to every member.
 */
export async function relayedMembers(
  dir: string,
  base: string,
  names: readonly string[],
  relayRate: string,
  args: readonly string[] = [],
): Promise<RelayedMembers> {
  const { started, close, spawn, failed, hostOf } = processes(dir, base);
  try {
    for (const name of ["hive", ...names]) {
      (await initProfile(`${dir}/${name}`, { name })).store.close();
    }
    const anchor = await spawn("hive", `${base}.1`, ["--passive", "--relay-rate", relayRate]);
    let members = await Promise.all(names.map((n, i) => spawn(n, hostOf(i), args)));
    for (const m of members) await addByInvite(anchor, m);
    await allContacts(members, names);
    // Each has its record with the anchor before the restart: the restarted
    // ones learn each other's dead address and the relay from there.
    for (const m of members) {
      await until(async () => (await peerOf(m, "hive"))?.state === "connected", 20_000, "hive");
    }
    for (const m of members) {
      await m.stop();
      started.delete(m);
    }
    members = await Promise.all(
      names.map((n, i) => spawn(n, hostOf(i), [...args, "--advertise", `${hostOf(i)}:1`])),
    );
    for (const [i, m] of members.entries()) {
      for (const [j, other] of names.entries()) {
        if (j === i) continue;
        await until(
          async () => (await peerOf(m, other))?.path === "relayed",
          60_000,
          `${names[i]}'s relayed session with ${other}`,
        );
      }
    }
    return { anchor, members, close };
  } catch (err) {
    return await failed(err);
  }
}

/** `p`'s control call `method`, typed loosely for benches. */
export function call<T>(p: NodeProcess, method: string, params: unknown): Promise<T> {
  return callNode(p, method, params) as Promise<T>;
}
