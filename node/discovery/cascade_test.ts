/** Table tests of the cascade's decisions (cascade.ts): events in, actions out, no I/O. */
import assert from "node:assert/strict";
import { initialCascade, retryDelay, stepCascade } from "./cascade.ts";
import { dialOf, tablePeers } from "./dial_table.ts";
import type {
  CascadeAction,
  CascadeConfig,
  CascadeEvent,
  CascadePeer,
  CascadeState,
  CascadeView,
} from "./cascade_state.ts";

const SELF = "50";
const person = (id: string, o: Partial<CascadePeer> = {}): CascadePeer => ({
  id,
  addresses: [`10.0.0.${id}:7022`],
  anchor: false,
  recordSeq: 1,
  ...o,
});
const anchor = (id: string) => person(id, { anchor: true });
const A1 = anchor("a1");
const P10 = person("10");
const P20 = person("20");
const P90 = person("90");
const PEERS = [P10, P20, A1, P90];

/** A view of `peers` in which `live` have sessions. */
function view(live: string[] = [], peers: readonly CascadePeer[] = PEERS): CascadeView {
  return {
    peers,
    sessions: live.map((id) => ({ id, anchor: peers.find((p) => p.id === id)?.anchor ?? false })),
  };
}

/** Deep-freezes a state so that a step that changed its input would throw. */
function frozen<T>(v: T): T {
  if (v && typeof v === "object") {
    for (const k of Object.keys(v)) frozen((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}

/** Feeds events one at a time, keeping the state; each step's actions are returned. */
class Drive {
  state: CascadeState;
  now = 0;
  constructor(config: Partial<CascadeConfig> = {}, seed = 7) {
    this.state = initialCascade({ self: SELF, ...config }, seed);
  }
  on(event: CascadeEvent): CascadeAction[] {
    const { state, actions } = stepCascade(frozen(this.state), event, this.now);
    this.state = state;
    return [...actions];
  }
  /** trigger + published: the first round's actions. */
  start(v: CascadeView, changed = true): CascadeAction[] {
    assert.deepEqual(this.on({ type: "trigger", reason: "start" }), [{ type: "publish" }]);
    return this.on({ type: "published", changed, view: v });
  }
  /** A holder served `peer`'s record `seq` for ask `ask` (from the anchor, over record 1, by default). */
  opened(o: {
    ask: number;
    peer: string;
    seq: number;
    view: CascadeView;
    from?: string;
    knownSeq?: number;
    addresses?: string[];
  }): CascadeAction[] {
    return this.on({
      type: "opened",
      ask: o.ask,
      peer: o.peer,
      from: o.from ?? "a1",
      knownSeq: o.knownSeq ?? 1,
      record: { seq: o.seq, addresses: o.addresses ?? ["n:1"] },
      view: o.view,
    });
  }
  dialled(peer: string, ok: boolean, v: CascadeView): CascadeAction[] {
    const serial = dialOf(this.state.dials, peer)!.serial;
    return this.on({ type: "direct_done", peer, serial, ok, view: v });
  }
}

const dial = (d: Drive, peer: string) => ({
  type: "dial" as const,
  peer,
  serial: dialOf(d.state.dials, peer)!.serial,
  addresses: dialOf(d.state.dials, peer)!.addresses,
});
const types = (actions: CascadeAction[]) => actions.map((a) => a.type);

Deno.test("cascade: a run publishes, then dials every unreached contact with an address, anchors first", () => {
  const d = new Drive();
  const noAddress = person("30", { addresses: [] });
  const v = view(["20"], [...PEERS, noAddress]);
  const acts = d.start(v);
  assert.deepEqual(acts, [dial(d, "a1"), dial(d, "10"), dial(d, "90")]);
  assert.equal(d.state.run?.step, "dialling");
  assert.deepEqual(tablePeers(d.state.run!.waiting).sort(), ["10", "90", "a1"]);
  assert.equal(d.state.rounds, 1);
  // Triggered again meanwhile: coalesced into one more pass, nothing now.
  assert.deepEqual(d.on({ type: "trigger", reason: "again" }), []);
  assert.equal(d.state.run?.again, true);
});

Deno.test("cascade: when a round's dials are done, every session is asked at once, anchors first, for the unreached people", () => {
  const d = new Drive();
  d.start(view());
  assert.deepEqual(d.dialled("10", true, view(["10"])), []);
  assert.deepEqual(d.dialled("20", false, view(["10"])), []);
  assert.deepEqual(d.dialled("90", false, view(["10"])), [], "still waiting for the anchor");
  const acts = d.dialled("a1", true, view(["10", "a1"]));
  const ask = d.state.run!.ask!;
  assert.deepEqual(acts, [{ type: "ask", ask, sessions: ["a1", "10"], peers: ["20", "90"] }]);
  assert.equal(d.state.run?.step, "asking");
  assert.deepEqual(d.state.asks[ask], { purpose: "round", learnt: [] });
});

Deno.test("cascade: a round that learns nothing ends the run with a jittered back-off, noted once per series", () => {
  const d = new Drive({ retryMs: 1000, maxRetryMs: 60_000 }, 99);
  const v = view(["a1"]);
  d.start(v);
  for (const p of ["10", "20", "90"]) d.dialled(p, false, v);
  const ask = d.state.run!.ask!;
  d.now = 40;
  const acts = d.on({ type: "asked", ask, view: v });
  assert.deepEqual(types(acts), ["backing_off", "set_timer", "run_done"]);
  assert.deepEqual(acts[0], { type: "backing_off", reason: "start", left: 3 });
  const first = acts[1] as Extract<CascadeAction, { type: "set_timer" }>;
  assert.equal(first.timer, "retry");
  assert.ok(first.ms >= 750 && first.ms <= 1250, `${first.ms}`);
  assert.deepEqual(acts[2], {
    type: "run_done",
    failed: false,
    startedAt: 0,
    ms: 40,
    learnt: 0,
  });
  assert.equal(d.state.run, null);
  assert.equal(d.state.retrying, true);

  // The retry: the same addresses were tried in the last run, so they are dialled again.
  assert.deepEqual(types(d.on({ type: "timer", timer: "retry", view: v })), ["publish"]);
  assert.deepEqual(types(d.on({ type: "published", changed: false, view: v })), [
    "dial",
    "dial",
    "dial",
  ]);
  for (const p of ["10", "20", "90"]) d.dialled(p, false, v);
  const again = d.on({ type: "asked", ask: d.state.run!.ask!, view: v });
  assert.deepEqual(types(again), ["set_timer", "run_done"], "noted only on the first retry");
  const second = (again[0] as Extract<CascadeAction, { type: "set_timer" }>).ms;
  assert.ok(second >= 1500 && second <= 2500, `${second}`);
  // The same seed gives the same delays: the jitter is part of the state.
  const replay = new Drive({ retryMs: 1000, maxRetryMs: 60_000 }, 99);
  replay.start(v);
  for (const p of ["10", "20", "90"]) replay.dialled(p, false, v);
  assert.deepEqual(replay.on({ type: "asked", ask: replay.state.run!.ask!, view: v })[1], first);
});

Deno.test("cascade: back-off doubles up to the cap", () => {
  const cfg = { self: SELF, retryMs: 1000, maxRetryMs: 60_000 };
  assert.deepEqual([0, 1, 2, 5, 6, 9].map((a) => retryDelay(a, cfg, 0.5)), [
    1000,
    2000,
    4000,
    32_000,
    60_000,
    60_000,
  ]);
  assert.equal(retryDelay(0, cfg, 0), 750);
});

Deno.test("cascade: with nobody to ask, or only anchors unreached, the pass ends without an ask", () => {
  const cases: Array<[string, CascadeView]> = [
    ["no session", view()],
    ["only an anchor unreached", view(["10", "20", "90"])],
  ];
  for (const [what, v] of cases) {
    const d = new Drive();
    d.start(v);
    const pending = tablePeers(d.state.dials);
    let acts: CascadeAction[] = [];
    for (const p of pending) acts = d.dialled(p, false, v);
    assert.deepEqual(types(acts), ["backing_off", "set_timer", "run_done"], what);
  }
});

Deno.test("cascade: a newer record is reported once and dialled at once by the smaller key; the larger key yields", () => {
  const d = new Drive({ yieldMs: 1500 });
  const v = view(["a1"]);
  d.start(v);
  for (const p of ["10", "20", "90"]) d.dialled(p, false, v);
  const ask = d.state.run!.ask!;
  const opened = (peer: string, seq: number, knownSeq = 1, from = "a1") =>
    d.opened({ ask, peer, seq, from, knownSeq, addresses: [`10.9.0.${peer}:7022`], view: v });
  // We are "50": "10" is smaller, so we yield to it; "90" is larger, so we dial it at once.
  const to10 = opened("10", 2);
  assert.deepEqual(to10, [
    { type: "set_timer", timer: "yield:10", ms: 1500 },
    { type: "report", peer: "10", record: { seq: 2, addresses: ["10.9.0.10:7022"] }, from: "a1" },
  ]);
  assert.equal(dialOf(d.state.dials, "10")?.yielding, true);
  const to90 = opened("90", 5);
  assert.deepEqual(types(to90), ["dial", "report"]);
  assert.deepEqual((to90[0] as Extract<CascadeAction, { type: "dial" }>).addresses, [
    "10.9.0.90:7022",
  ]);
  // Not newer than what we have, or than what is being reported now: nothing.
  assert.deepEqual(opened("20", 1), [], "the seq we have");
  assert.deepEqual(opened("90", 5, 1, "10"), [], "the same record from another holder");
  assert.deepEqual(opened("90", 4), [], "an older one while 5 is being reported");
  d.on({ type: "reported", peer: "90", seq: 5 });
  assert.equal(d.state.reporting["90"], undefined);
  assert.deepEqual(d.state.asks[ask]?.learnt, ["10", "90"]);
  // The yield ends: dialled unless a session came meanwhile.
  assert.deepEqual(d.on({ type: "timer", timer: "yield:10", view: v }), [dial(d, "10")]);
});

Deno.test("cascade: a session from the peer cuts the yield short, and the dial is dropped", () => {
  const d = new Drive();
  const v = view(["a1"]);
  d.start(v);
  for (const p of ["10", "20", "90"]) d.dialled(p, false, v);
  d.opened({ ask: d.state.run!.ask!, peer: "10", seq: 2, addresses: ["x:1"], view: v });
  assert.deepEqual(d.on({ type: "session_up", peer: "10", view: view(["a1", "10"]) }), [
    { type: "cancel_timer", timer: "yield:10" },
  ]);
  assert.equal(dialOf(d.state.dials, "10"), undefined);
});

Deno.test("cascade: after a round that learnt, the next dials only changed addresses and joins dials under way", () => {
  const d = new Drive({ yieldMs: 1500 });
  const v = view(["a1"]);
  d.start(v);
  for (const p of ["10", "20", "90"]) d.dialled(p, false, v);
  const ask = d.state.run!.ask!;
  d.opened({ ask, peer: "10", seq: 2, addresses: ["10.9.0.10:7022"], view: v });
  d.on({ type: "reported", peer: "10", seq: 2 });
  // The host took the record in: 10 has new addresses in the view.
  const moved = view(["a1"], [
    person("10", { addresses: ["10.9.0.10:7022"], recordSeq: 2 }),
    P20,
    A1,
    P90,
  ]);
  d.now = 100;
  const acts = d.on({ type: "asked", ask, view: moved });
  assert.deepEqual(acts, [], "20 and 90 unchanged; 10 is waiting out its yield, joined");
  assert.equal(d.state.run?.round, 1);
  assert.equal(d.state.rounds, 2);
  assert.deepEqual(tablePeers(d.state.run!.waiting), ["10"]);
  // The yield ends, the dial answers: everyone but 20 and 90, who are asked for again.
  assert.deepEqual(types(d.on({ type: "timer", timer: "yield:10", view: moved })), ["dial"]);
  const after = d.dialled("10", true, view(["a1", "10"], moved.peers));
  assert.deepEqual(types(after), ["ask"]);
  assert.deepEqual((after[0] as Extract<CascadeAction, { type: "ask" }>).sessions, ["a1", "10"]);
});

Deno.test("cascade: everyone reached ends the run, noted once with the rounds it took", () => {
  const d = new Drive();
  d.start(view());
  d.dialled("a1", true, view(["a1"]));
  d.dialled("10", true, view(["a1", "10"]));
  d.dialled("20", true, view(["a1", "10", "20"]));
  const acts = d.dialled("90", true, view(["a1", "10", "20", "90"]));
  assert.deepEqual(acts, [
    { type: "all_reached", contacts: 4, rounds: 1 },
    { type: "run_done", failed: false, startedAt: 0, ms: 0, learnt: 0 },
  ]);
  assert.equal(d.state.rounds, 0);
  assert.equal(d.state.retryAttempt, 0);
  // A session that comes up later notes nothing more.
  assert.deepEqual(
    d.on({ type: "session_up", peer: "90", view: view(["a1", "10", "20", "90"]) }),
    [],
  );
});

Deno.test("cascade: the last contact reached by a session (not a dial) after a back-off is noted then", () => {
  const d = new Drive();
  const v = view(["a1", "10", "20"]);
  d.start(v);
  d.dialled("90", false, v);
  d.on({ type: "asked", ask: d.state.run!.ask!, view: v });
  assert.equal(d.state.retrying, true);
  assert.deepEqual(d.on({ type: "session_up", peer: "90", view: view(["a1", "10", "20", "90"]) }), [
    { type: "all_reached", contacts: 4, rounds: 1 },
  ]);
});

Deno.test("cascade: a trigger during a run makes one more pass, and a changed record lets tried addresses be dialled again", () => {
  const d = new Drive();
  const v = view(["a1", "10", "20"]);
  d.start(v);
  d.on({ type: "trigger", reason: "lost someone" });
  d.dialled("90", false, v);
  assert.deepEqual(d.on({ type: "asked", ask: d.state.run!.ask!, view: v }), [{ type: "publish" }]);
  // 90's address was tried in this run: not dialled again; the round goes straight to asking.
  assert.deepEqual(types(d.on({ type: "published", changed: false, view: v })), ["ask"]);
  d.on({ type: "trigger", reason: "moved" });
  assert.deepEqual(
    types(d.on({ type: "asked", ask: d.state.run!.ask!, view: v })),
    ["publish"],
    "the second trigger's pass",
  );
  // Our record changed: every address is worth dialling again.
  assert.deepEqual(types(d.on({ type: "published", changed: true, view: v })), ["dial"]);
});

Deno.test("cascade: at most maxRounds rounds per pass", () => {
  const d = new Drive({ maxRounds: 2 });
  const v = view(["a1"]);
  d.start(v);
  for (let round = 0; round < 2; round++) {
    for (const p of tablePeers(d.state.dials)) d.dialled(p, false, v);
    const ask = d.state.run!.ask!;
    d.opened({
      ask,
      peer: "90",
      seq: round + 1,
      knownSeq: round,
      addresses: [`new${round}:1`],
      view: v,
    });
    d.on({ type: "reported", peer: "90", seq: round + 1 });
    const moved = view(["a1"], [P10, P20, A1, person("90", { addresses: [`new${round}:1`] })]);
    for (const p of tablePeers(d.state.dials)) d.dialled(p, false, moved);
    const acts = d.on({ type: "asked", ask, view: moved });
    if (round === 1) assert.deepEqual(types(acts), ["backing_off", "set_timer", "run_done"]);
  }
  assert.equal(d.state.rounds, 2);
});

Deno.test("cascade: a new session is asked for whoever is missing; learning from it runs the cascade", () => {
  const d = new Drive();
  const v = view(["a1", "20"]);
  const acts = d.on({ type: "handed_over", peer: "20", view: v });
  const ask = (acts[0] as Extract<CascadeAction, { type: "ask" }>).ask;
  assert.deepEqual(acts, [{ type: "ask", ask, sessions: ["20"], peers: ["10", "90"] }]);
  d.opened({ ask, peer: "90", seq: 3, from: "20", view: v });
  d.on({ type: "reported", peer: "90", seq: 3 });
  assert.deepEqual(types(d.on({ type: "asked", ask, view: v })), ["publish"]);
  assert.equal(d.state.run?.reason, "learnt from a new session");
  // Nobody missing: nothing to ask.
  assert.deepEqual(
    d.on({ type: "handed_over", peer: "20", view: view(["a1", "10", "20", "90"]) }),
    [],
  );
});

Deno.test("cascade: a notify naming someone we wait for is answered with an ask of the notifier, then a run", () => {
  const d = new Drive();
  const v = view(["a1", "20"]);
  assert.deepEqual(d.on({ type: "notified", from: "20", named: [], view: v }), []);
  assert.deepEqual(
    d.on({ type: "notified", from: "30", named: ["10"], view: v }),
    [],
    "no session",
  );
  const acts = d.on({ type: "notified", from: "20", named: ["10"], view: v });
  const ask = (acts[0] as Extract<CascadeAction, { type: "ask" }>).ask;
  assert.deepEqual(acts, [{ type: "ask", ask, sessions: ["20"], peers: ["10", "90"] }]);
  assert.deepEqual(d.on({ type: "asked", ask, view: v }), [], "learnt nothing: no run");
  const again = d.on({ type: "notified", from: "20", named: ["10"], view: v });
  const ask2 = (again[0] as Extract<CascadeAction, { type: "ask" }>).ask;
  d.opened({ ask: ask2, peer: "10", seq: 2, from: "20", view: v });
  assert.deepEqual(types(d.on({ type: "asked", ask: ask2, view: v })), ["publish"]);
  assert.equal(d.state.run?.reason, "notified");
});

Deno.test("cascade: relays get dialled after the direct addresses' head start, or at once when those fail first", () => {
  type Case = [string, (d: Drive) => CascadeAction[][], CascadeAction["type"][][]];
  // 90 is the only contact, so that nobody is left to ask once it is dialled.
  const v = view([], [P90]);
  const up = view(["90"], [P90]);
  const serial = (d: Drive) => dialOf(d.state.dials, "90")!.serial;
  const cases: Case[] = [
    [
      "direct answers within the head start",
      (d) => [d.dialled("90", true, up)],
      [[
        "cancel_timer",
        "all_reached",
        "run_done",
      ]],
    ],
    ["direct fails first: relays at once", (d) => [
      d.dialled("90", false, v),
      d.on({ type: "relayed_done", peer: "90", serial: serial(d), ok: false, view: v }),
    ], [["cancel_timer", "dial_relayed"], ["backing_off", "set_timer", "run_done"]]],
    ["the head start passes: relays join, and the dial waits for both", (d) => [
      d.on({ type: "timer", timer: "relays:90", view: v }),
      d.on({
        type: "relayed_done",
        peer: "90",
        serial: serial(d),
        ok: true,
        view: up,
      }),
      d.dialled("90", false, up),
    ], [["dial_relayed"], [], ["all_reached", "run_done"]]],
    ["the head start passes with a session already up (they dialled us)", (d) => [
      d.on({ type: "timer", timer: "relays:90", view: up }),
    ], [["all_reached", "run_done"]]],
    ["closed during the head start: no relays, the direct dial ends it", (d) => [
      d.on({ type: "close", view: v }),
      d.dialled("90", false, v),
    ], [["cancel_timer"], ["run_done"]]],
  ];
  for (const [what, events, want] of cases) {
    const d = new Drive({ relayed: true, relayHeadStartMs: 1000 });
    const first = d.start(v);
    assert.deepEqual(first.slice(1), [{ type: "set_timer", timer: "relays:90", ms: 1000 }], what);
    assert.deepEqual(events(d).map(types), want, what);
  }
});

Deno.test("cascade: results of an earlier dial of the same peer are ignored", () => {
  const d = new Drive();
  const v = view(["a1", "10", "20"]);
  d.start(v);
  const stale = dialOf(d.state.dials, "90")!.serial - 1;
  assert.deepEqual(d.on({ type: "direct_done", peer: "90", serial: stale, ok: true, view: v }), []);
  assert.ok(dialOf(d.state.dials, "90"));
});

Deno.test("cascade: close cancels the retry and every yield; triggers after it do nothing", () => {
  const d = new Drive();
  const v = view(["a1", "20"]);
  d.start(v);
  d.dialled("10", false, v);
  d.dialled("90", false, v);
  const ask = d.state.run!.ask!;
  d.opened({ ask, peer: "10", seq: 2, view: v });
  const acts = d.on({ type: "close", view: v });
  assert.deepEqual(acts, [{ type: "cancel_timer", timer: "yield:10" }]);
  // The run learnt 10's record 2 before it was closed.
  assert.deepEqual(d.on({ type: "asked", ask, view: v }), [{
    type: "run_done",
    failed: false,
    startedAt: 0,
    ms: 0,
    learnt: 1,
  }], "no retry");
  assert.deepEqual(d.on({ type: "trigger", reason: "late" }), []);

  const r = new Drive();
  r.start(v);
  r.dialled("10", false, v);
  r.dialled("90", false, v);
  r.on({ type: "asked", ask: r.state.run!.ask!, view: v });
  assert.deepEqual(r.on({ type: "close", view: v }), [{ type: "cancel_timer", timer: "retry" }]);
});

Deno.test("cascade: a failure to publish or to take in a record ends the run without a retry", () => {
  const d = new Drive();
  d.on({ type: "trigger", reason: "start" });
  assert.deepEqual(d.on({ type: "published", changed: false, failed: true, view: view() }), [
    { type: "run_done", failed: true, startedAt: 0, ms: 0, learnt: 0 },
  ]);
  const v = view(["a1"]);
  d.start(v);
  for (const p of tablePeers(d.state.dials)) d.dialled(p, false, v);
  assert.deepEqual(d.on({ type: "asked", ask: d.state.run!.ask!, failed: true, view: v }), [
    { type: "run_done", failed: true, startedAt: 0, ms: 0, learnt: 0 },
  ]);
  assert.equal(d.state.retrying, false);
});
