/**
 * The cascade's decisions (stepCascade) for a whole hive at once: 100 people
 * and 2 anchors in a simulated network on a FakeClock, everyone moving at the
 * same moment. The simulation stands in for the shell (discovery.ts) and the
 * node: a dial reaches whoever listens at one of the addresses; a session
 * hands over our record (plain to a person) and our sealed copies for the
 * holder to keep; a holder answers asks with what it holds and tells the
 * sessions that asked when a fresh copy arrives (addr.notify). Every link
 * takes LINK_MS each way. No sockets, no sleeps.
 */
import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { randomGraph } from "../../testing/hive.ts";
import { seededRandom, testSeed } from "../../testing/temp.ts";
import { initialCascade, stepCascade } from "./cascade.ts";
import type {
  CascadeAction,
  CascadeEvent,
  CascadeState,
  CascadeView,
  PeerId,
  TimerName,
} from "./cascade_state.ts";

const LINK_MS = 5;

interface Contact {
  readonly id: PeerId;
  readonly anchor: boolean;
  addresses: string[];
  recordSeq: number;
}

interface Counts {
  /** Addresses dialled. */
  dials: number;
  /** Sessions asked (one addr.get each). */
  asks: number;
  /** Records taken in, via a holder or handed over directly. */
  learnt: number;
  /** Fresh-copy notices received. */
  notified: number;
  /** The rounds noted when every contact was back (the last time). */
  rounds: number;
  /** Runs of the cascade. */
  runs: number;
  /** Runs that ended with contacts left, setting a retry. */
  backoffs: number;
  /** Retry timers that went off. */
  retries: number;
}

interface Sim {
  readonly i: number;
  readonly id: PeerId;
  readonly anchor: boolean;
  address: string;
  /** Our record: seq and the address it names. */
  seq: number;
  readonly records: Map<number, string>;
  state: CascadeState | null;
  readonly contacts: Map<PeerId, Contact>;
  readonly sessions: Set<PeerId>;
  /** Sealed copies held for others: "owner>reader" → seq. */
  readonly held: Map<string, number>;
  /** Per session we serve, whose records its last ask wanted (for notify). */
  readonly asked: Map<PeerId, Set<PeerId>>;
  readonly timers: Map<TimerName, object>;
  life: number;
  counts: Counts;
}

const zero = (): Counts => ({
  dials: 0,
  asks: 0,
  learnt: 0,
  notified: 0,
  rounds: 0,
  runs: 0,
  backoffs: 0,
  retries: 0,
});

/** A hive of cascade cores and the simulated network that runs their actions. */
class SimHive {
  readonly clock = new FakeClock({ start: 0 });
  readonly nodes: Sim[] = [];
  readonly byId = new Map<PeerId, Sim>();
  readonly listening = new Map<string, Sim>();
  /** Work due at each moment, run by one timer of the clock per moment. */
  readonly #due = new Map<number, Array<() => void>>();
  generation = 0;
  lastSession = 0;

  constructor(seed: number, people: number, anchors: number, degree: number) {
    const rand = seededRandom(seed);
    for (let i = 0; i < people + anchors; i++) {
      const id = Math.floor(rand() * 2 ** 32).toString(16).padStart(8, "0") + String(i);
      const n: Sim = {
        i,
        id,
        anchor: i >= people,
        address: this.#addressOf(i, people),
        seq: 0,
        records: new Map(),
        state: null,
        contacts: new Map(),
        sessions: new Set(),
        held: new Map(),
        asked: new Map(),
        timers: new Map(),
        life: 0,
        counts: zero(),
      };
      this.nodes.push(n);
      this.byId.set(id, n);
    }
    const link = (a: Sim, b: Sim) => {
      for (const [x, y] of [[a, b], [b, a]]) {
        x!.contacts.set(y!.id, { id: y!.id, anchor: y!.anchor, addresses: [], recordSeq: 0 });
      }
    };
    for (const [a, b] of randomGraph(people, degree, rand)) link(this.nodes[a]!, this.nodes[b]!);
    for (const p of this.persons) for (const a of this.anchors) link(p, a);
    // Before the move: every pair was connected, so every contact knows every
    // address and record 1, and every holder keeps record 1's copies.
    for (const n of this.nodes) {
      n.seq = 1;
      n.records.set(1, n.address);
      this.listening.set(n.address, n);
    }
    for (const n of this.nodes) {
      for (const c of n.contacts.values()) {
        c.addresses = [this.byId.get(c.id)!.address];
        c.recordSeq = 1;
        for (const r of this.byId.get(c.id)!.contacts.values()) {
          if (!r.anchor && r.id !== n.id) n.held.set(`${c.id}>${r.id}`, 1);
        }
      }
    }
  }

  get persons(): Sim[] {
    return this.nodes.filter((n) => !n.anchor);
  }

  get anchors(): Sim[] {
    return this.nodes.filter((n) => n.anchor);
  }

  #addressOf(i: number, people: number): string {
    return i >= people
      ? `10.255.0.${i - people + 1}:7022`
      : `10.${this.generation}.${i >> 8}.${i & 255}:7022`;
  }

  /** Runs `fn` `ms` from now, after what is already due then. */
  at(ms: number, fn: () => void): void {
    const due = this.clock.now() + ms;
    const q = this.#due.get(due);
    if (q) return void q.push(fn);
    const fresh = [fn];
    this.#due.set(due, fresh);
    this.clock.setTimeout(() => {
      for (let k = 0; k < fresh.length; k++) fresh[k]!();
      this.#due.delete(due);
    }, ms);
  }

  view(n: Sim): CascadeView {
    return {
      peers: [...n.contacts.values()],
      sessions: [...n.sessions].map((id) => ({ id, anchor: this.byId.get(id)!.anchor })),
    };
  }

  feed(n: Sim, event: CascadeEvent): void {
    if (!n.state) return;
    const { state, actions } = stepCascade(n.state, event, this.clock.now());
    n.state = state;
    for (const a of actions) this.#act(n, a);
  }

  /** `fn` later, unless `n` restarted meanwhile. */
  #later(n: Sim, ms: number, fn: () => void): void {
    const life = n.life;
    this.at(ms, () => n.life === life && fn());
  }

  #act(n: Sim, a: CascadeAction): void {
    switch (a.type) {
      case "publish":
        return this.#later(n, 0, () => {
          const changed = n.records.get(n.seq) !== n.address;
          if (changed) {
            n.records.set(++n.seq, n.address);
            for (const s of n.sessions) this.#handOver(n, this.byId.get(s)!);
          }
          this.feed(n, { type: "published", changed, view: this.view(n) });
        });
      case "dial":
        n.counts.dials += a.addresses.length;
        return this.#later(n, 4 * LINK_MS, () => {
          const to = a.addresses.map((x) => this.listening.get(x)).find((t) => t?.id === a.peer);
          const ok = to !== undefined && !n.sessions.has(a.peer);
          if (ok) this.#connect(n, to);
          this.feed(n, {
            type: "direct_done",
            peer: a.peer,
            serial: a.serial,
            ok,
            view: this.view(n),
          });
        });
      case "dial_relayed":
        throw new Error("no relays in this hive");
      case "ask":
        return this.#ask(n, a);
      case "report":
        this.#learn(n, a.peer, a.record.seq, [...a.record.addresses]);
        return this.feed(n, { type: "reported", peer: a.peer, seq: a.record.seq });
      case "set_timer": {
        const token = {};
        n.timers.set(a.timer, token);
        return this.#later(n, a.ms, () => {
          if (n.timers.get(a.timer) !== token) return;
          n.timers.delete(a.timer);
          if (a.timer === "retry") n.counts.retries++;
          this.feed(n, { type: "timer", timer: a.timer, view: this.view(n) });
        });
      }
      case "cancel_timer":
        return void n.timers.delete(a.timer);
      case "all_reached":
        return void (n.counts.rounds = a.rounds);
      case "run_done":
        return void n.counts.runs++;
      case "backing_off":
        return void n.counts.backoffs++;
    }
  }

  #learn(n: Sim, peer: PeerId, seq: number, addresses: string[]): void {
    const c = n.contacts.get(peer);
    if (!c || seq <= c.recordSeq) return;
    c.recordSeq = seq;
    c.addresses = addresses;
    n.counts.learnt++;
  }

  #connect(a: Sim, b: Sim): void {
    a.sessions.add(b.id);
    b.sessions.add(a.id);
    this.lastSession = this.clock.now();
    for (const [x, y] of [[a, b], [b, a]] as const) {
      if (x.anchor) continue;
      this.feed(x, { type: "session_up", peer: y.id, view: this.view(x) });
      this.#handOver(x, y);
      // addr.mine, then addr.put: two round trips, then the new session is asked.
      this.#later(x, 4 * LINK_MS, () => {
        if (x.sessions.has(y.id)) {
          this.feed(x, { type: "handed_over", peer: y.id, view: this.view(x) });
        }
      });
    }
  }

  /** Our record to a person session, plain, and our copies for our other people to keep. */
  #handOver(x: Sim, y: Sim): void {
    const seq = x.seq;
    this.at(LINK_MS, () => {
      if (!y.anchor) this.#learn(y, x.id, seq, [x.records.get(seq)!]);
      this.at(2 * LINK_MS, () => {
        for (const r of x.contacts.values()) {
          if (!r.anchor && r.id !== y.id) y.held.set(`${x.id}>${r.id}`, seq);
        }
        this.#notifyWaiting(y, x);
      });
    });
  }

  /** A holder that got fresh copies of `owner`'s record tells the sessions that asked for it. */
  #notifyWaiting(holder: Sim, owner: Sim): void {
    for (const s of holder.sessions) {
      const asked = holder.asked.get(s);
      const reader = this.byId.get(s)!;
      if (s === owner.id || reader.anchor || !asked?.has(owner.id)) continue;
      asked.delete(owner.id);
      this.#later(reader, LINK_MS, () => {
        reader.counts.notified++;
        const c = reader.contacts.get(owner.id);
        const waiting = c && !c.anchor && !reader.sessions.has(owner.id);
        this.feed(reader, {
          type: "notified",
          from: holder.id,
          named: waiting ? [owner.id] : [],
          view: this.view(reader),
        });
      });
    }
  }

  #ask(n: Sim, a: Extract<CascadeAction, { type: "ask" }>): void {
    n.counts.asks += a.sessions.length;
    let pending = a.sessions.length;
    const done = () => {
      if (--pending === 0) this.feed(n, { type: "asked", ask: a.ask, view: this.view(n) });
    };
    if (pending === 0) {
      return this.#later(
        n,
        0,
        () => this.feed(n, { type: "asked", ask: a.ask, view: this.view(n) }),
      );
    }
    for (const h of a.sessions.map((id) => this.byId.get(id)!)) {
      this.#later(n, LINK_MS, () => {
        if (!h.sessions.has(n.id)) return this.#later(n, LINK_MS, done);
        h.asked.set(n.id, new Set(a.peers));
        const items = a.peers.map((p) => ({ p, seq: h.held.get(`${p}>${n.id}`) }));
        this.#later(n, LINK_MS, () => {
          for (const { p, seq } of items) {
            if (seq === undefined) continue;
            const record = { seq, addresses: [this.byId.get(p)!.records.get(seq)!] };
            const knownSeq = n.contacts.get(p)!.recordSeq;
            this.feed(n, {
              type: "opened",
              ask: a.ask,
              peer: p,
              from: h.id,
              knownSeq,
              record,
              view: this.view(n),
            });
          }
          done();
        });
      });
    }
  }

  /** Every person restarts at a new address at this moment: sessions gone, a fresh cascade. */
  moveAll(): void {
    this.generation++;
    const people = this.persons.length;
    for (const n of this.persons) {
      this.listening.delete(n.address);
      for (const s of n.sessions) this.byId.get(s)!.sessions.delete(n.id);
      n.sessions.clear();
    }
    for (const n of this.persons) {
      n.address = this.#addressOf(n.i, people);
      this.listening.set(n.address, n);
      n.life++;
      n.timers.clear();
      n.counts = zero();
      n.state = initialCascade({ self: n.id }, Math.floor(this.clock.random() * 2 ** 32));
      this.feed(n, { type: "trigger", reason: "start" });
    }
  }

  /** Contact pairs without a session. */
  missing(): string[] {
    const out: string[] = [];
    for (const n of this.persons) {
      for (const c of n.contacts.keys()) if (!n.sessions.has(c)) out.push(`${n.i}-${c}`);
    }
    return out;
  }
}

Deno.test("cascade in a simulated hive: 100 people, 2 anchors, everyone moves at once; everyone is back in a few rounds", async () => {
  const seed = testSeed("cascade sim");
  const t0 = performance.now();
  const hive = new SimHive(seed, 100, 2, 8);
  hive.moveAll();
  const fakeMs = await hive.clock.runUntilIdle({ maxMs: 10 * 60_000 });
  const wallMs = performance.now() - t0;
  const people = hive.persons;
  const stat = (f: (n: Sim) => number) => {
    const v = people.map(f).sort((a, b) => a - b);
    return { max: v.at(-1)!, median: v[v.length >> 1]!, sum: v.reduce((a, b) => a + b, 0) };
  };
  const rounds = stat((n) => n.counts.rounds);
  const dials = stat((n) => n.counts.dials);
  const asks = stat((n) => n.counts.asks);
  const runs = stat((n) => n.counts.runs);
  const notified = stat((n) => n.counts.notified);
  console.log(
    `  ${
      wallMs.toFixed(0)
    } ms wall; all pairs back ${hive.lastSession} ms of fake time after the move ` +
      `(idle after ${fakeMs} ms); per person: rounds max ${rounds.max} (median ${rounds.median}), ` +
      `dials max ${dials.max} (median ${dials.median}), asks max ${asks.max} (median ${asks.median}), ` +
      `runs max ${runs.max}, notices max ${notified.max}; ${hive.clock.fired} clock timers`,
  );
  assert.deepEqual(hive.missing(), [], "every contact pair has a session again");
  assert.ok(wallMs < 1000, `${wallMs.toFixed(0)} ms of wall time`);
  for (const n of people) {
    const contacts = [...n.contacts.values()];
    const persons = contacts.filter((c) => !c.anchor).length;
    // Each person contact moved once: its new record is taken in exactly once.
    assert.equal(n.counts.learnt, persons, `p${n.i} learnt ${n.counts.learnt} of ${persons}`);
    assert.ok(n.counts.rounds >= 1 && n.counts.rounds <= 3, `p${n.i}: ${n.counts.rounds} rounds`);
    // The old addresses once or twice each, the new ones once, the anchors once.
    assert.ok(n.counts.dials <= 3 * contacts.length, `p${n.i}: ${n.counts.dials} dials`);
    // Every session asked a few times (when it comes up, in rounds, after a notice).
    assert.ok(n.counts.asks <= 3 * contacts.length, `p${n.i}: ${n.counts.asks} asks`);
    // The first run finds no new record yet (the others are still handing
    // theirs over) and backs off; the holders' notices bring everyone back
    // before any retry is due.
    assert.ok(n.counts.backoffs <= 1, `p${n.i} backed off ${n.counts.backoffs} times`);
    assert.equal(n.counts.retries, 0, `p${n.i} waited for a retry`);
    assert.equal(n.state?.retrying, false, "no retry left waiting");
  }
  // A few round trips: dial the old addresses and the anchors, hand over, ask, be told, dial.
  assert.ok(hive.lastSession <= 40 * LINK_MS, `back after ${hive.lastSession} ms of fake time`);
});
