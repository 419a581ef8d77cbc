/**
 * A hive in one process: N person nodes and K passive anchors, each on its own
 * loopback address, with a seeded random connected contact graph. Contacts are
 * written straight into each data folder before the first start (no invites),
 * so a hive of 100 is up in seconds.
 *
 *   await using hive = await startHive({ seed, nodes: 30, anchors: 2, degree: 8 });
 *   await hive.move("all", "127.2");        // every person restarts elsewhere
 *   const ms = await hive.waitConnected(30_000);
 *
 * Addresses: person i listens on `${base}.${i / 250 | 0}.${i % 250 + 1}`, anchor k on
 * `${base}.9.${k + 1}`; `base` is two octets ("127.1"). Logs are kept in memory
 * and printed by `dump()` (or live with `verbose`); the structured events of
 * each member (api/NodeEvent) are kept too, and the stats are counted from
 * them, never from the wording of a log line.
 *
 * Proving that nothing more happens, without sleeping: `handedOver()` waits
 * until every session has exchanged records, then `ranSince(t)` until every
 * person with contacts left has run its cascade once more from `t` on. When
 * those runs learnt nothing and no session came up since, nothing will: a
 * retry dials and asks the same again.
 */
import { initProfile } from "../node/home/mod.ts";
import { fingerprint } from "../node/identity/mod.ts";
import { toHex } from "../node/log/mod.ts";
import { RojNode } from "../node/node.ts";
import type { NodeEvent } from "../node/api/mod.ts";
import { seededRandom, shuffle } from "./temp.ts";
import { startWanDelay, type WanDoor, type WanOptions } from "./wan_delay.ts";

export interface HiveOptions {
  /** Seeds the contact graph (see temp.ts testSeed). */
  readonly seed: number;
  /** Person nodes. */
  readonly nodes: number;
  /** Passive anchors; every person has every anchor as a contact. */
  readonly anchors: number;
  /** Average number of person contacts per person (capped at nodes - 1). */
  readonly degree: number;
  /** First two octets of the loopback addresses. @default "127.1" */
  readonly hostBase?: string;
  /** Print every node's log lines as they happen. @default $ROJ_VERBOSE */
  readonly verbose?: boolean;
  /** Per-dial timeout of every node. @default 5000 (the node default) */
  readonly dialTimeoutMs?: number;
  /**
   * Give every node its UDP endpoint (QUIC, punching). Off by default: on
   * loopback everyone is reachable over TCP, so it adds nothing to what the
   * hive measures but CPU; and a move closes and reopens dozens of endpoints
   * at once, which is how Deno 2.9.6's quinn panic (endpoint.rs:556, see
   * transport/quic.ts) showed up here. @default false
   */
  readonly quic?: boolean;
  /** Wait until every contact pair has a session and records are exchanged. @default true */
  readonly settle?: boolean;
  /**
   * Where the data folders go. @default $ROJ_HIVE_TMP, else /dev/shm when it
   * exists (a hive of 30-100 Deno KV stores committing at once on one disk
   * measures the disk's fsync queue, not the cascade), else the system temp dir
   */
  readonly tmpDir?: string;
  /**
   * Put every member behind a delaying forwarder (wan_delay.ts): it listens on
   * a private 127.250.x.y address and advertises its public one, so each
   * round trip costs 2 × oneWayMs. @default none
   */
  readonly wan?: WanOptions;
}

/** One node of the hive; persons are 0..N-1, anchors N..N+K-1. */
export interface HiveMember {
  readonly index: number;
  readonly name: string;
  readonly kind: "person" | "anchor";
  readonly dir: string;
  readonly fingerprint: string;
  readonly publicKey: Uint8Array;
  /** Contacts, by member index (persons and anchors). */
  readonly contacts: readonly number[];
  /** The running node, or null while stopped. */
  node: RojNode | null;
  host: string;
  port: number;
}

/** Counted from the nodes' events since the last `resetStats()`. */
export interface HiveStats {
  published: number;
  learntDirect: number;
  learntViaAnchor: number;
  learntViaPeer: number;
  typedByHand: number;
  connects: number;
  /** SSH handshakes made only to check a peer's reachability (reach.check, node/relay). */
  dialBacks: number;
  dialFailures: number;
  /** Cascades that ended with contacts left and went to timed retries. */
  backoffs: number;
  dropped: number;
  /** Most dial-and-ask rounds any node ran before it had all its contacts again. */
  maxRounds: number;
  /** Nodes that logged having all their contacts again (with their round count). */
  completed: number;
}

export type Pair = readonly [number, number];

export interface Hive extends AsyncDisposable {
  readonly seed: number;
  readonly members: readonly HiveMember[];
  readonly persons: readonly HiveMember[];
  readonly anchors: readonly HiveMember[];
  /** Every contact pair [a, b] with a < b (person–person and person–anchor). */
  readonly edges: readonly Pair[];
  readonly stats: HiveStats;
  /** performance.now() when the last (re)start of nodes began. */
  readonly startedAt: number;
  /** The running node of member `i`. @throws when stopped */
  node(i: number): RojNode;
  /** "host:port" of member `i` now. */
  address(i: number): string;
  /**
   * Closes these members (every person for "all") and starts them again from
   * their folders on new addresses under `newHostBase`: all closed first, then
   * all started at once. Resolves once all listen, with the ms that took.
   */
  move(which: "all" | readonly number[], newHostBase: string): Promise<number>;
  /** Closes members, keeping their folders. */
  stop(which: readonly number[]): Promise<void>;
  /**
   * Starts stopped members from their folders: on `hostBase` addresses if
   * given, else on their last host; on their last port with `samePort`, else
   * on a fresh one. Resolves once all listen, with the ms that took.
   */
  start(which: readonly number[], at?: { hostBase?: string; samePort?: boolean }): Promise<number>;
  /** Pairs (of `edges`, both ends running) with a live session seen from both sides. */
  connectedPairs(): Promise<Pair[]>;
  /** Pairs with a session seen from at least one side (for diagnostics). */
  halfConnectedPairs(): Promise<Pair[]>;
  /**
   * Resolves with the ms since `startedAt` once every edge between running
   * members (or just `pairs`) is connected both ways.
   * @throws on timeout, naming what is missing
   */
  waitConnected(timeoutMs: number, pairs?: readonly Pair[]): Promise<number>;
  /**
   * [i, j] for each running person i whose contact book lacks the current
   * address of its running person contact j (what i would dial after a move).
   */
  staleContacts(): Pair[];
  /** Per edge, the ms after `startedAt` at which both sides first had it connected. */
  edgeTimes(): Map<string, number>;
  /** The structured events (no log lines) of member `i` since it last started. */
  events(i: number): readonly NodeEvent[];
  /**
   * Resolves with the first event of member `i` at or after index `from` of
   * events(i) (past or future) that matches.
   * @throws on timeout, or when the member stops meanwhile
   */
  waitFor(
    i: number,
    match: (e: NodeEvent) => boolean,
    timeoutMs?: number,
    from?: number,
  ): Promise<NodeEvent>;
  /**
   * Resolves once every running person has handed its record and sealed
   * copies over (or failed to) on every session it kept: one
   * "records-handed" per "session" up. What a holder serves changes only
   * with those hand-overs.
   */
  handedOver(timeoutMs: number): Promise<void>;
  /**
   * Resolves once every running person with a contact not connected has
   * finished a cascade run that started at or after `since` (ms by the
   * nodes' clock, Date.now), with those runs' "done" events by member.
   */
  ranSince(since: number, timeoutMs: number): Promise<Map<number, NodeEvent>>;
  resetStats(): void;
  /** The last log lines of every node (or of `which`). */
  dump(which?: readonly number[], lines?: number): string;
  /** Closes every node and removes the data folders. */
  close(): Promise<void>;
}

/** A pair as "a-b" with a < b. */
export const pairKey = (a: number, b: number): string => (a < b ? `${a}-${b}` : `${b}-${a}`);

export function personHost(base: string, i: number): string {
  return `${base}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

/** Where member `i` listens when it sits behind a WAN door (HiveOptions.wan). */
function privateHost(i: number): string {
  return `127.250.${(i / 250) | 0}.${(i % 250) + 1}`;
}

export function anchorHost(base: string, k: number): string {
  return `${base}.9.${k + 1}`;
}

/** A random connected graph on n nodes with about n * degree / 2 edges. */
export function randomGraph(n: number, degree: number, rand: () => number): Pair[] {
  const edges = new Set<string>();
  const out: Pair[] = [];
  const add = (a: number, b: number) => {
    if (a === b || edges.has(pairKey(a, b))) return false;
    edges.add(pairKey(a, b));
    out.push(a < b ? [a, b] : [b, a]);
    return true;
  };
  // A random spanning tree keeps it connected...
  const order = shuffle(Array.from({ length: n }, (_, i) => i), rand);
  for (let i = 1; i < n; i++) add(order[i]!, order[Math.floor(rand() * i)]!);
  // ...then random edges up to the wanted average degree.
  const want = Math.min(Math.round((n * Math.min(degree, n - 1)) / 2), (n * (n - 1)) / 2);
  while (out.length < want) add(Math.floor(rand() * n), Math.floor(rand() * n));
  return out;
}

/**
 * Which contact pairs can come back after a move, by the cascade's rules:
 * `live` pairs are up (a contact still at its address, a typed address); a
 * pair (x, y) comes up once some contact z of both has a live session with x
 * and holds y's current sealed copy for x, because y handed it over on a live
 * session since moving, or y is in `current` (y has not moved since it last
 * reached all its contacts, so they all hold its current copies). Then x asks
 * z and dials y. Repeats to a fixpoint; returns the pairs as "a-b" keys.
 */
export function learnablePairs(
  edges: readonly Pair[],
  live: readonly Pair[],
  current: ReadonlySet<number> = new Set(),
): Set<string> {
  const up = new Set(live.map(([a, b]) => pairKey(a, b)));
  const contacts = new Map<number, Set<number>>();
  const neighbours = new Map<number, Set<number>>();
  const add = (m: Map<number, Set<number>>, a: number, b: number) => {
    if (!m.has(a)) m.set(a, new Set());
    m.get(a)!.add(b);
    if (!m.has(b)) m.set(b, new Set());
    m.get(b)!.add(a);
  };
  for (const [a, b] of edges) add(contacts, a, b);
  for (const k of up) {
    const [a, b] = k.split("-").map(Number) as [number, number];
    add(neighbours, a, b);
  }
  // x reaches z, and z holds y's current copy for x.
  const via = (x: number, y: number) => {
    for (const z of neighbours.get(x) ?? []) {
      if (neighbours.get(y)?.has(z) || (current.has(y) && contacts.get(y)?.has(z))) return true;
    }
    return false;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const [a, b] of edges) {
      if (up.has(pairKey(a, b)) || !(via(a, b) || via(b, a))) continue;
      up.add(pairKey(a, b));
      add(neighbours, a, b);
      changed = true;
    }
  }
  return up;
}

/** Pairs as "a-b" keys (a < b), for comparing sets of pairs. */
export function pairKeys(pairs: Iterable<Pair>): Set<string> {
  return new Set([...pairs].map(([a, b]) => pairKey(a, b)));
}

/**
 * Up to `size` of the nodes 0..n-1 that stay put so that every pair is
 * learnable after the others move (greedy: each pick grows the learnable set
 * most), padded with random others to `size`; null when `size` is not enough.
 */
export function stableSetFor(
  edges: readonly Pair[],
  n: number,
  size: number,
  rand: () => number,
): Set<number> | null {
  const learnt = (stable: Set<number>) =>
    learnablePairs(edges, edges.filter(([a, b]) => stable.has(a) || stable.has(b))).size;
  const stable = new Set<number>();
  while (stable.size < size && learnt(stable) < edges.length) {
    let best = -1, bestSize = -1;
    for (const c of shuffle(Array.from({ length: n }, (_, i) => i), rand)) {
      if (stable.has(c)) continue;
      const got = learnt(new Set([...stable, c]));
      if (got > bestSize) [best, bestSize] = [c, got];
    }
    stable.add(best);
  }
  if (learnt(stable) < edges.length) return null;
  for (const c of shuffle(Array.from({ length: n }, (_, i) => i), rand)) {
    if (stable.size >= size) break;
    stable.add(c);
  }
  return stable;
}

/** A free port on `host`, as the kernel hands it out. */
function freePort(host: string): number {
  const l = Deno.listen({ hostname: host, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The default parent folder of hive data folders (see HiveOptions.tmpDir). */
export function hiveTmpDir(): string | undefined {
  const env = Deno.env.get("ROJ_HIVE_TMP");
  if (env) return env;
  try {
    if (Deno.statSync("/dev/shm").isDirectory) return "/dev/shm";
  } catch { /* not Linux */ }
  return undefined;
}

export async function startHive(options: HiveOptions): Promise<Hive> {
  const base = options.hostBase ?? "127.1";
  const tmpDir = options.tmpDir ?? hiveTmpDir();
  const verbose = options.verbose ?? Boolean(Deno.env.get("ROJ_VERBOSE"));
  const dialTimeoutMs = options.dialTimeoutMs ?? 5000;
  const rand = seededRandom(options.seed);
  const n = options.nodes, k = options.anchors;
  const personEdges = randomGraph(n, options.degree, rand);
  const edges: Pair[] = [...personEdges];
  for (let p = 0; p < n; p++) for (let a = 0; a < k; a++) edges.push([p, n + a]);
  const contactsOf = Array.from({ length: n + k }, () => [] as number[]);
  for (const [a, b] of edges) {
    contactsOf[a]!.push(b);
    contactsOf[b]!.push(a);
  }

  const members: HiveMember[] = [];
  const logs = new Map<number, string[]>();
  /** Per member, its structured events since it last started, and who waits on them. */
  const events = new Map<number, NodeEvent[]>();
  const waiters = new Map<number, Set<() => void>>();
  const stats: HiveStats = {
    published: 0,
    learntDirect: 0,
    learntViaAnchor: 0,
    learntViaPeer: 0,
    typedByHand: 0,
    connects: 0,
    dialBacks: 0,
    dialFailures: 0,
    backoffs: 0,
    dropped: 0,
    maxRounds: 0,
    completed: 0,
  };
  const edgeSeen = new Map<string, number>();
  const edgeTimes = new Map<string, number>();
  let startedAt = performance.now();
  const byName = new Map<string, number>();

  const onLog = (i: number, line: string) => {
    const t = performance.now() - startedAt;
    const buf = logs.get(i)!;
    buf.push(`${t.toFixed(0).padStart(6)} ms ${line}`);
    if (buf.length > 400) buf.splice(0, buf.length - 300);
    if (verbose) console.log(`[${members[i]!.name}] ${line}`);
  };

  const onEvent = (i: number, e: NodeEvent) => {
    if (e.type === "log") return;
    events.get(i)!.push(e);
    for (const w of waiters.get(i) ?? []) w();
    switch (e.type) {
      case "record-published":
        stats.published++;
        break;
      case "record-learnt":
        if (e.source === "anchor") stats.learntViaAnchor++;
        else if (e.source === "direct") stats.learntDirect++;
        else stats.learntViaPeer++;
        break;
      case "session": {
        if (e.state !== "up") break;
        stats.connects++;
        const other = byName.get(e.peer);
        if (other === undefined) break;
        // An edge is up once both sides had it; keep the first time.
        const t = performance.now() - startedAt;
        const key = pairKey(i, other);
        const side = `${key}:${i}`;
        if (!edgeSeen.has(side)) edgeSeen.set(side, t);
        const otherSide = edgeSeen.get(`${key}:${other}`);
        if (otherSide !== undefined && !edgeTimes.has(key)) {
          edgeTimes.set(key, Math.max(t, otherSide));
        }
        break;
      }
      case "dial-failed":
        stats.dialFailures++;
        break;
      case "dial-back":
        stats.dialBacks++;
        break;
      case "cascade":
        if (e.state === "backing-off") stats.backoffs++;
        else if (e.state === "all-reached") {
          stats.completed++;
          stats.maxRounds = Math.max(stats.maxRounds, e.rounds);
        }
        break;
      case "typed-address":
        stats.typedByHand++;
        break;
      case "record-dropped":
        stats.dropped++;
        break;
    }
  };

  /** Resolves with the first event of `i` from index `from` on that matches. */
  const waitFor = (
    i: number,
    match: (e: NodeEvent) => boolean,
    timeoutMs = 10_000,
    from = 0,
  ): Promise<NodeEvent> => {
    const list = events.get(i)!;
    const found = () => list.slice(from).find(match);
    const past = found();
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const set = waiters.get(i)!;
      const done = () => {
        clearTimeout(timer);
        set.delete(check);
      };
      const check = () => {
        if (events.get(i) !== list) {
          done();
          return reject(new Error(`${members[i]!.name} restarted while waited on`));
        }
        const e = found();
        if (e) (done(), resolve(e));
      };
      const timer = setTimeout(() => {
        set.delete(check);
        reject(new Error(`${members[i]!.name}: timed out waiting for an event`));
      }, timeoutMs);
      set.add(check);
    });
  };

  /** Resolves once `check()` holds, re-checked at every event of every member. */
  const whenAll = (check: () => boolean, timeoutMs: number, what: () => string) => {
    if (check()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        for (const set of waiters.values()) set.delete(test);
      };
      const test = () => {
        if (check()) (done(), resolve());
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`hive: timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      for (const set of waiters.values()) set.add(test);
    });
  };

  const wan = options.wan ? await startWanDelay(options.wan) : undefined;
  const doors = new Map<number, WanDoor>();

  const cleanup = async () => {
    await Promise.all(members.map((m) => m.node?.close().catch(() => {})));
    await wan?.close();
    await Promise.all(
      members.map((m) => Deno.remove(m.dir, { recursive: true }).catch(() => {})),
    );
  };

  try {
    // 1. Identities and addresses.
    for (let i = 0; i < n + k; i++) {
      const kind = i < n ? "person" : "anchor";
      const name = kind === "person" ? `p${String(i).padStart(2, "0")}` : `anchor-${i - n}`;
      const host = kind === "person" ? personHost(base, i) : anchorHost(base, i - n);
      const dir = await Deno.makeTempDir({
        prefix: `roj-hive-${name}-`,
        ...(tmpDir ? { dir: tmpDir } : {}),
      });
      const profile = await initProfile(dir, { name });
      profile.store.close();
      members.push({
        index: i,
        name,
        kind,
        dir,
        fingerprint: fingerprint(profile.keyPair.publicKey),
        publicKey: profile.keyPair.publicKey,
        contacts: contactsOf[i]!,
        node: null,
        host,
        port: freePort(host),
      });
      byName.set(name, i);
      logs.set(i, []);
      events.set(i, []);
      waiters.set(i, new Set());
    }
    // 2. Contacts written straight into each folder: persons know where everyone
    //    is; anchors know their members' keys and nothing else.
    const now = Date.now();
    for (const m of members) {
      const node = await RojNode.open({ dataDir: m.dir });
      try {
        for (const c of m.contacts) {
          const other = members[c]!;
          const addresses = m.kind === "anchor" ? [] : [`${other.host}:${other.port}`];
          await node.contacts.add(other.publicKey, other.name, addresses, now, ["notes"]);
          if (other.kind === "anchor") {
            await node.contacts.update(other.publicKey, { anchor: true });
          }
        }
      } finally {
        await node.close();
      }
    }
  } catch (err) {
    await cleanup();
    throw err;
  }

  const startOne = async (m: HiveMember) => {
    // Behind a WAN door the node listens privately and names the door's address.
    const door = wan ? await wan.open(m.host, m.port) : undefined;
    const node = await RojNode.open({
      dataDir: m.dir,
      log: (l) => onLog(m.index, l),
      listen: door ? { host: privateHost(m.index), port: 0 } : { host: m.host, port: m.port },
      ...(door ? { advertise: [`${m.host}:${door.port}`] } : {}),
      passive: m.kind === "anchor",
      quic: options.quic ?? false,
      dialTimeoutMs,
    });
    // A new life: waiters on the old one are told (see waitFor).
    events.set(m.index, []);
    for (const w of waiters.get(m.index)!) w();
    node.subscribe((e) => onEvent(m.index, e));
    try {
      await node.start();
    } catch (err) {
      await node.close();
      await door?.close();
      throw err;
    }
    m.node = node;
    if (door) {
      door.target(privateHost(m.index), node.address!.port);
      doors.set(m.index, door);
      m.port = door.port;
    } else m.port = node.address!.port;
  };

  const stop = async (which: readonly number[]) => {
    await Promise.all(which.map(async (i) => {
      const m = members[i]!;
      const node = m.node;
      m.node = null;
      await node?.close();
      await doors.get(i)?.close();
      doors.delete(i);
    }));
  };

  const start = async (
    which: readonly number[],
    at: { hostBase?: string; samePort?: boolean } = {},
  ) => {
    startedAt = performance.now();
    edgeSeen.clear();
    edgeTimes.clear();
    for (const i of which) {
      const m = members[i]!;
      if (m.node) throw new Error(`${m.name} is running`);
      if (at.hostBase) {
        m.host = m.kind === "person" ? personHost(at.hostBase, i) : anchorHost(at.hostBase, i - n);
      }
      if (!at.samePort) m.port = 0;
    }
    await Promise.all(which.map((i) => startOne(members[i]!)));
    return performance.now() - startedAt;
  };

  const view = async () => {
    // Per running member: contact fingerprint → connected?
    const out = new Map<number, Map<string, boolean>>();
    for (const m of members) {
      if (!m.node) continue;
      const peers = await m.node.call("peers", {});
      out.set(m.index, new Map(peers.map((p) => [p.fingerprint, p.state === "connected"])));
    }
    return out;
  };

  const runningEdges = () => edges.filter(([a, b]) => members[a]!.node && members[b]!.node);

  const connectedPairs = async (both = true) => {
    const v = await view();
    return runningEdges().filter(([a, b]) => {
      const ab = v.get(a)?.get(members[b]!.fingerprint) ?? false;
      const ba = v.get(b)?.get(members[a]!.fingerprint) ?? false;
      return both ? ab && ba : ab || ba;
    });
  };

  /**
   * Cheap: every running member has as many sessions as running contacts
   * (sessions only exist with contacts, one per peer). Polling the full peer
   * views of 100 nodes every few ms would itself slow the hive down.
   */
  const countsMatch = async () => {
    for (const m of members) {
      if (!m.node) continue;
      const running = m.contacts.filter((c) => members[c]!.node).length;
      if ((await m.node.call("status", {})).online !== running) return false;
    }
    return true;
  };

  const waitConnected = async (timeoutMs: number, pairs?: readonly Pair[]) => {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const want = pairs ?? runningEdges();
      const covered = async () => {
        const have = new Set((await connectedPairs()).map(([a, b]) => pairKey(a, b)));
        return want.every(([a, b]) => have.has(pairKey(a, b)));
      };
      if (pairs ? await covered() : await countsMatch() && await covered()) {
        return performance.now() - startedAt;
      }
      if (performance.now() > end) {
        const got = await connectedPairs();
        const have = new Set(got.map(([a, b]) => pairKey(a, b)));
        const missing = want.filter(([a, b]) => !have.has(pairKey(a, b)));
        throw new Error(
          `hive: ${missing.length} of ${want.length} pairs not connected after ${timeoutMs} ms: ` +
            missing.slice(0, 12).map(([a, b]) => `${members[a]!.name}–${members[b]!.name}`)
              .join(", ") +
            (missing.length > 12 ? ", …" : ""),
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const hive: Hive = {
    seed: options.seed,
    members,
    persons: members.slice(0, n),
    anchors: members.slice(n),
    edges,
    stats,
    get startedAt() {
      return startedAt;
    },
    node(i) {
      const node = members[i]?.node;
      if (!node) throw new Error(`member ${i} is not running`);
      return node;
    },
    address(i) {
      const m = members[i]!;
      return `${m.host}:${m.port}`;
    },
    async move(which, newHostBase) {
      const list = which === "all" ? members.slice(0, n).map((m) => m.index) : which;
      await stop(list);
      return await start(list, { hostBase: newHostBase });
    },
    stop,
    start,
    connectedPairs: () => connectedPairs(true),
    halfConnectedPairs: () => connectedPairs(false),
    waitConnected,
    edgeTimes: () => new Map(edgeTimes),
    events: (i) => events.get(i) ?? [],
    waitFor,
    handedOver(timeoutMs) {
      // Per running person: sessions kept, and hand-overs said, in this life.
      const behind = () =>
        members.filter((m) => {
          if (!m.node || m.kind !== "person") return false;
          const list = events.get(m.index)!;
          const ups = list.filter((e) => e.type === "session" && e.state === "up").length;
          return list.filter((e) => e.type === "records-handed").length < ups;
        });
      return whenAll(
        () => behind().length === 0,
        timeoutMs,
        () => `hand-overs of ${behind().map((m) => m.name).join(", ")}`,
      );
    },
    async ranSince(since, timeoutMs) {
      const due: number[] = [];
      for (const m of members) {
        if (!m.node || m.kind !== "person") continue;
        const peers = await m.node.call("peers", {});
        if (peers.some((p) => p.state !== "connected")) due.push(m.index);
      }
      const runOf = (i: number) =>
        events.get(i)!.find((e) =>
          e.type === "cascade" && e.state === "done" && e.startedAt >= since
        );
      await whenAll(
        () => due.every((i) => runOf(i) !== undefined),
        timeoutMs,
        () =>
          `a cascade run since ${since} of ${
            due.filter((i) => !runOf(i)).map((i) => members[i]!.name).join(", ")
          }`,
      );
      return new Map(due.map((i) => [i, runOf(i)!]));
    },
    staleContacts() {
      const out: Pair[] = [];
      for (const m of members) {
        if (!m.node || m.kind !== "person") continue;
        for (const j of m.contacts) {
          const other = members[j]!;
          if (!other.node || other.kind !== "person") continue;
          const c = m.node.contacts.get(other.publicKey);
          if (!c?.addresses.includes(hive.address(j))) out.push([m.index, j]);
        }
      }
      return out;
    },
    resetStats() {
      for (const key of Object.keys(stats) as Array<keyof HiveStats>) stats[key] = 0;
    },
    dump(which, lines = 60) {
      const list = (which ?? members.map((m) => m.index)).filter((i) => members[i]);
      return list.map((i) =>
        `--- ${members[i]!.name} (${members[i]!.kind}, ${hive.address(i)}) ---\n` +
        logs.get(i)!.slice(-lines).join("\n")
      ).join("\n");
    },
    close: cleanup,
    [Symbol.asyncDispose]: cleanup,
  };

  try {
    await start(members.map((m) => m.index), { samePort: true });
    if (options.settle ?? true) {
      await waitConnected(30_000 + (n + k) * 200);
      // Every session's hand-over done, so each person has taken in its
      // contacts' records itself; a record missing here would be learnt later
      // from a peer's sealed copy, after a test's "nothing more" mark.
      await hive.handedOver(20_000);
      // Records exchanged: each person knows every person contact's record,
      // and every anchor holds each person's copies for its person contacts.
      const want = personEdges.length * 2;
      const anchorKeys = new Set(members.slice(n).map((m) => toHex(m.publicKey)));
      const deadline = performance.now() + 20_000;
      for (;;) {
        const seqsKnown = members.slice(0, n).every((m) =>
          m.node!.contacts.all().every((c) => anchorKeys.has(toHex(c.publicKey)) || c.recordSeq > 0)
        );
        const held = await Promise.all(
          members.slice(n).map(async (m) => (await m.node!.call("status", {})).records ?? 0),
        );
        // (A contact's recordSeq can be lost to a concurrent contact update, so
        // after a while the anchors' copies alone count as settled.)
        const late = performance.now() > deadline - 17_000;
        if ((seqsKnown || late) && held.every((h) => h >= want)) break;
        if (performance.now() > deadline) {
          throw new Error(
            `hive: records not exchanged (anchors hold ${held.join(", ")} of ${want})`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  } catch (err) {
    if (verbose) console.log(hive.dump());
    await cleanup();
    throw err;
  }
  hive.resetStats();
  return hive;
}
