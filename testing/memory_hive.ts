/**
 * A hive of discovery shells in memory: N people and K passive anchors, each
 * a real Discovery (real records, sealing, tags) on an in-memory store, over
 * the memory transport (node/transport/memory.ts), with every timer on one
 * FakeClock. What a node does around discovery is the least the cascade
 * needs, as node.ts does it: one session per peer (peers/PeerSet), sessions
 * from dials and from the listener, the host's dial and learnt.
 *
 *   await using hive = await startMemoryHive({ seed, nodes: 100, anchors: 2, degree: 8 });
 *   await hive.settle();                 // everyone connected once
 *   await hive.move("all");              // every person restarts at a new address
 *   await hive.settle();
 *
 * settle() runs the clock from quiescence to quiescence: it lets all work in
 * flight finish (requests, dials, host callbacks), then moves the clock to the
 * next timer, until no timer is left. No sleeps.
 */
import { FakeClock, settle } from "../node/clock/mod.ts";
import {
  Discovery,
  type DiscoveryHost,
  type DiscoveryNote,
  type KnownPeer,
} from "../node/discovery/mod.ts";
import { createSigner, generateKeyPair, type KeyPair, type Signer } from "../node/identity/mod.ts";
import { toHex } from "../node/log/mod.ts";
import { type PeerSession, PeerSet } from "../node/peers/mod.ts";
import { RpcSession } from "../node/protocol/mod.ts";
import { openStore, type Store } from "../node/store/mod.ts";
import { MemoryNetwork, type Pipe, type TransportListener } from "../node/transport/mod.ts";
import { type Pair, randomGraph } from "./hive.ts";
import { seededRandom } from "./temp.ts";

export interface MemoryHiveOptions {
  readonly seed: number;
  /** People. */
  readonly nodes: number;
  readonly anchors: number;
  /** Average person contacts each. */
  readonly degree: number;
  /** One-way delay of every link, in fake ms. @default 0 */
  readonly delayMs?: number;
}

/** What one node did, for assertions on the work a cascade took. */
export interface SimCounts {
  /** Dials the cascade asked the host for (one per address tried). */
  dials: number;
  /** Records the cascade handed the host. */
  learnt: number;
  /** Requests sent, by method. */
  requests: Record<string, number>;
  /** Sessions kept. */
  sessions: number;
}

interface SimContact extends KnownPeer {
  addresses: string[];
  recordSeq: number;
}

export interface SimNode {
  readonly index: number;
  readonly name: string;
  readonly anchor: boolean;
  readonly keyPair: KeyPair;
  readonly hex: string;
  /** The address it listens on now. */
  address: string;
  readonly contacts: Map<string, SimContact>;
  readonly peers: PeerSet;
  discovery: Discovery;
  counts: SimCounts;
  /** Notes of the current life (since the last start). */
  notes: DiscoveryNote[];
}

export interface MemoryHive extends AsyncDisposable {
  readonly clock: FakeClock;
  readonly net: MemoryNetwork;
  readonly members: readonly SimNode[];
  readonly persons: readonly SimNode[];
  /** Person contact pairs, by index. */
  readonly edges: readonly Pair[];
  /** Runs until nothing is in flight and no timer is left; returns the fake ms that passed. */
  settle(): Promise<number>;
  /** Every person in `who` restarts at a new address (a fresh Discovery on the same store). */
  move(who: "all" | readonly number[]): Promise<void>;
  /** Contact pairs (people and anchors) without a session on both ends. */
  missing(): string[];
  /** Zeroes every node's counts. */
  resetCounts(): void;
  close(): Promise<void>;
}

const PORT = 7022;
const freshCounts = (): SimCounts => ({ dials: 0, learnt: 0, requests: {}, sessions: 0 });

/** Starts the hive; every person dials its contacts once (settle() to let that finish). */
export async function startMemoryHive(options: MemoryHiveOptions): Promise<MemoryHive> {
  const clock = new FakeClock({ seed: options.seed });
  const net = new MemoryNetwork({ clock, delayMs: options.delayMs ?? 0 });
  const total = options.nodes + options.anchors;
  const edges = randomGraph(options.nodes, options.degree, seededRandom(options.seed));
  let generation = 0;
  const hostOf = (i: number, gen: number) =>
    i >= options.nodes ? `10.255.0.${i - options.nodes + 1}` : `10.${gen}.${i >> 8}.${i & 255}`;
  const stores: Store[] = [];
  const listeners = new Map<number, TransportListener>();
  let closing = false;
  /** Work in flight: requests, dials, host callbacks (which may wait on the clock). */
  let inflight = 0;
  /** Work that finishes in real time, whatever the clock: store commits, signatures. */
  let working = 0;
  let activity = 0;
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight++;
    activity++;
    return p.finally(() => {
      inflight--;
      activity++;
    });
  };
  const work = <T>(p: Promise<T>): Promise<T> => {
    working++;
    activity++;
    return p.finally(() => {
      working--;
      activity++;
    });
  };

  const members: SimNode[] = [];
  const keys = await Promise.all(
    Array.from({ length: total }, (_, i) => generateKeyPair(i < options.nodes ? `p${i}` : `a${i}`)),
  );
  const signers: Signer[] = (await Promise.all(keys.map(createSigner))).map((signer) => ({
    publicKey: signer.publicKey,
    sign: (data) => work(signer.sign(data)),
  }));
  for (let i = 0; i < total; i++) {
    const anchor = i >= options.nodes;
    const keyPair = keys[i]!;
    const store = await openStore(":memory:");
    stores.push({ kv: watchedKv(store.kv, work), path: store.path, close: () => store.close() });
    const node: SimNode = {
      index: i,
      name: anchor ? `anchor-${i - options.nodes}` : `p${String(i).padStart(2, "0")}`,
      anchor,
      keyPair,
      hex: toHex(keyPair.publicKey),
      address: `${hostOf(i, generation)}:${PORT}`,
      contacts: new Map(),
      peers: new PeerSet(keyPair.publicKey),
      discovery: undefined as unknown as Discovery,
      counts: freshCounts(),
      notes: [],
    };
    members.push(node);
  }
  const befriend = (a: SimNode, b: SimNode) => {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      x.contacts.set(y.hex, {
        publicKey: y.keyPair.publicKey,
        name: y.name,
        addresses: [y.address],
        anchor: y.anchor,
        recordSeq: 0,
      });
    }
  };
  /** The anchors' keys (the very arrays contacts and sessions hold). */
  const anchorKeys = new Set(members.filter((m) => m.anchor).map((m) => m.keyPair.publicKey));
  for (const [a, b] of edges) befriend(members[a]!, members[b]!);
  for (const p of members.slice(0, options.nodes)) {
    for (const a of members.slice(options.nodes)) befriend(p, a);
  }

  function rpcFor(node: SimNode, pipe: Pipe, peer: Uint8Array): RpcSession {
    const rpc = new RpcSession(pipe, {
      hello: { features: node.anchor ? ["anchor"] : [], name: node.name },
    });
    const request = rpc.request.bind(rpc);
    rpc.request = (method, params, timeoutMs) => {
      node.counts.requests[method] = (node.counts.requests[method] ?? 0) + 1;
      return track(request(method, params, timeoutMs));
    };
    node.discovery.serve(rpc, peer);
    return rpc;
  }

  function attach(node: SimNode, contact: SimContact, rpc: RpcSession, direction: "in" | "out") {
    if (closing) return rpc.close("hive closing");
    const session: PeerSession = {
      peer: contact.publicKey,
      direction,
      rpc,
      remote: rpc.pipe.remote,
      since: clock.now(),
    };
    if (!node.peers.add(session)) return;
    node.counts.sessions++;
    activity++;
    const discovery = node.discovery;
    rpc.onClose(() => {
      activity++;
      if (!node.peers.remove(session) || closing || node.discovery !== discovery) return;
      track(discovery.trigger(`lost ${contact.name}`).catch(() => {}));
    });
    track(discovery.onSession({ peer: contact.publicKey, rpc, anchor: contact.anchor }));
  }

  function host(node: SimNode): DiscoveryHost {
    const live = (s: PeerSession) => ({ peer: s.peer, rpc: s.rpc, anchor: anchorKeys.has(s.peer) });
    return {
      keyPair: node.keyPair,
      signer: signers[node.index]!,
      passive: node.anchor,
      now: () => clock.now(),
      log: () => activity++,
      note: (n) => node.notes.push(n),
      peers: () => (node.anchor ? [] : [...node.contacts.values()]),
      sessions: () => node.peers.all().map(live),
      session: (peer) => {
        const s = node.peers.get(peer);
        return s ? live(s) : undefined;
      },
      dial: (p, address, race) =>
        track((async () => {
          const contact = node.contacts.get(toHex(p.publicKey));
          if (!contact || closing || node.peers.get(p.publicKey)) return false;
          node.counts.dials++;
          try {
            const { pipe } = await net.dial({
              keyPair: node.keyPair,
              address,
              expectedKey: p.publicKey,
              expectedName: p.name,
              localAddress: node.address.split(":")[0]!,
              ...(race ? { signal: race.signal } : {}),
            });
            const rpc = rpcFor(node, pipe, p.publicKey);
            await rpc.ready.catch(() => {});
            if (rpc.closed || (race && !race.claim())) {
              rpc.close("another address answered first");
              return false;
            }
            attach(node, contact, rpc, "out");
            return node.peers.get(p.publicKey)?.rpc === rpc;
          } catch {
            return false;
          }
        })()),
      learnt: (peer, record) =>
        track((() => {
          const c = node.contacts.get(toHex(peer));
          if (!c || record.seq <= c.recordSeq) return Promise.resolve();
          node.counts.learnt++;
          c.addresses = [...record.addresses];
          c.recordSeq = record.seq;
          return Promise.resolve();
        })()),
      addresses: () => [node.address],
    };
  }

  async function start(node: SimNode): Promise<void> {
    node.discovery = await Discovery.open(host(node), stores[node.index]!, { clock });
    node.notes = [];
    const listener = await net.listen({
      keyPair: node.keyPair,
      address: node.address,
      authorize: (k) => node.contacts.has(toHex(k)),
      onPipe: ({ publicKey, pipe }) => {
        const contact = node.contacts.get(toHex(publicKey));
        if (!contact) return pipe.close("not accepted");
        const rpc = rpcFor(node, pipe, publicKey);
        track(rpc.ready.then(() => attach(node, contact, rpc, "in"), () => {}));
      },
    });
    listeners.set(node.index, listener);
    track(node.discovery.trigger("start"));
  }

  async function stop(node: SimNode): Promise<void> {
    node.discovery.close();
    await listeners.get(node.index)?.close();
    for (const s of node.peers.all()) s.rpc.close("moving");
  }

  for (const a of members.slice(options.nodes)) await start(a);
  for (const p of members.slice(0, options.nodes)) await start(p);

  const quiet = async () => {
    // Store commits and signatures finish in real time: wait for them, and
    // for a few event-loop turns with no activity; when no timer is left to
    // move things on, for everything in flight.
    for (let calm = 0, last = -1, i = 0; calm < 2; i++) {
      if (i > 1_000_000) throw new Error("the hive never went quiet");
      await settle(1);
      if (working === 0 && activity === last && (inflight === 0 || clock.pending > 0)) calm++;
      else calm = 0;
      last = activity;
    }
  };

  const hive: MemoryHive = {
    clock,
    net,
    members,
    persons: members.slice(0, options.nodes),
    edges,
    async settle() {
      const t0 = clock.now();
      for (let i = 0;; i++) {
        if (i > 100_000) throw new Error("still busy after 100,000 timer steps");
        await quiet();
        const due = clock.nextDue;
        if (due === undefined) return clock.now() - t0;
        await clock.advance(Math.max(0, due - clock.now()));
      }
    },
    async move(who) {
      generation++;
      const movers = who === "all" ? hive.persons : who.map((i) => members[i]!);
      // All at once: no mover's cascade sees the others leave.
      for (const m of movers) m.discovery.close();
      for (const m of movers) await stop(m);
      for (const m of movers) m.address = `${hostOf(m.index, generation)}:${PORT}`;
      for (const m of movers) await start(m);
    },
    missing() {
      const out: string[] = [];
      for (const m of members) {
        if (m.anchor) continue;
        for (const c of m.contacts.values()) {
          const other = members.find((x) => x.hex === toHex(c.publicKey))!;
          if (!m.peers.get(c.publicKey) || !other.peers.get(m.keyPair.publicKey)) {
            out.push(`${m.name}–${other.name}`);
          }
        }
      }
      return out;
    },
    resetCounts() {
      for (const m of members) m.counts = freshCounts();
    },
    async close() {
      closing = true;
      for (const m of members) await stop(m);
      await hive.settle();
      for (const s of stores) s.close();
    },
    [Symbol.asyncDispose]: () => hive.close(),
  };
  return hive;
}

/** `kv`, with every operation that returns a promise counted by `work` while it runs. */
function watchedKv(kv: Deno.Kv, work: <T>(p: Promise<T>) => Promise<T>): Deno.Kv {
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, prop) {
        const v = Reflect.get(t, prop, t);
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          const r = v.apply(t, args);
          if (r instanceof Promise) return work(r);
          // atomic() and its chained calls: the commit is what takes time.
          return r && typeof r === "object" && "commit" in r ? wrap(r) : r;
        };
      },
    });
  return wrap(kv);
}
