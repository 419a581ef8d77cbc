/**
 * The reconnect cascade's decisions, as a pure function of (state, event,
 * now): which contacts to dial at which addresses, which sessions to ask for
 * whom, when a round ends, when to stop and back off and for how long, the
 * larger key's yield before dialling a record it just learnt, the head start
 * direct addresses get before relays, and asking again after a notify.
 * discovery.ts is the shell: it runs the actions (RPC, sealing, KV, the
 * host's dials, timers on its Clock) and feeds what happens back as events,
 * each with a fresh view of the contacts and sessions.
 *
 * A run: publish (the shell signs a new record if the addresses changed),
 * then rounds of "dial every unreached contact at addresses not yet tried in
 * this run, in parallel; when those dials are done, ask every session at once
 * for the records of the unreached people"; a round that reaches everyone or
 * learns nothing ends the pass; a trigger during the run asks for one more
 * pass. Then, if anyone is left, a retry timer with jittered back-off.
 *
 * Tags, seals and record signatures are the shell's: here a contact is its
 * key in hex, and a record is what the shell says it holds.
 *
 * @example
 * ```ts
 * import { initialCascade, stepCascade } from "./cascade.ts";
 * const s0 = initialCascade({ self: "bb" }, 1);
 * const { actions } = stepCascade(s0, { type: "trigger", reason: "start" }, 0);
 * // actions: [{ type: "publish" }]
 * ```
 */

import { mulberry32 } from "../clock/mod.ts";
import type {
  Ask,
  AskPurpose,
  CascadeAction,
  CascadeConfig,
  CascadeEvent,
  CascadePeer,
  CascadeRecord,
  CascadeState,
  CascadeStep,
  CascadeView,
  Dial,
  PeerId,
  Run,
  TimerName,
} from "./cascade_state.ts";
import {
  dialOf,
  type DialTable,
  emptyTable,
  tableEntries,
  tableGet,
  tableOf,
  tableWith,
} from "./dial_table.ts";

/** The state of a cascade that has not run yet; `seed` seeds the retry jitter. */
export function initialCascade(config: CascadeConfig, seed: number): CascadeState {
  return {
    config: {
      self: config.self,
      maxRounds: config.maxRounds ?? 8,
      retryMs: config.retryMs ?? 1000,
      maxRetryMs: config.maxRetryMs ?? 60_000,
      yieldMs: config.yieldMs ?? 1500,
      relayed: config.relayed ?? false,
      relayHeadStartMs: config.relayHeadStartMs ?? 1000,
    },
    closed: false,
    run: null,
    retryAttempt: 0,
    retrying: false,
    rounds: 0,
    dials: emptyTable(),
    reporting: {},
    asks: {},
    serial: 1,
    seed: seed >>> 0,
  };
}

/** Anchors before people, keeping the order otherwise (requests go out in this order). */
export function anchorsFirst<T extends { readonly anchor: boolean }>(items: readonly T[]): T[] {
  return [...items.filter((i) => i.anchor), ...items.filter((i) => !i.anchor)];
}

/** Contacts without a session, anchors first: they are dialled and asked first. */
export function unreachedOf(view: CascadeView): CascadePeer[] {
  const live = new Set(view.sessions.map((s) => s.id));
  return anchorsFirst(view.peers.filter((p) => !live.has(p.id)));
}

/** The larger key of two yields to the other's dial of a record both just learnt. */
export function yieldsTo(self: PeerId, peer: PeerId): boolean {
  return self > peer;
}

/** A pass's retry delay: back-off from retryMs, doubling up to maxRetryMs, ±25% jitter. */
export function retryDelay(attempt: number, config: CascadeConfig, jitter: number): number {
  const base = Math.min(
    config.maxRetryMs ?? 60_000,
    (config.retryMs ?? 1000) * 2 ** Math.max(0, attempt),
  );
  return Math.round(base * (0.75 + jitter * 0.5));
}

/** One step of the cascade: the state after `event` at `now`, and what the shell must do. */
export function stepCascade<R extends CascadeRecord>(
  state: CascadeState,
  event: CascadeEvent<R>,
  now: number,
): CascadeStep<R> {
  const c = new Step<R>(state, now);
  c.on(event);
  return { state: c.result(), actions: c.actions };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One step's scratch copy of the state; the state passed in is never changed. */
class Step<R extends CascadeRecord> {
  readonly actions: CascadeAction<R>[] = [];
  readonly #s: Mutable<CascadeState>;
  #dials: DialTable;
  // Copied on a step's first change (few steps change them), as #dials is part by part.
  #reporting: Record<PeerId, number>;
  #asks: Record<number, Ask>;
  #copied = { reporting: false, asks: false };
  readonly #now: number;

  constructor(state: CascadeState, now: number) {
    this.#s = { ...state };
    this.#dials = state.dials;
    this.#reporting = state.reporting;
    this.#asks = state.asks;
    this.#now = now;
  }

  result(): CascadeState {
    return { ...this.#s, dials: this.#dials, reporting: this.#reporting, asks: this.#asks };
  }

  #mutReporting(): Record<PeerId, number> {
    if (!this.#copied.reporting) {
      this.#reporting = { ...this.#reporting };
      this.#copied.reporting = true;
    }
    return this.#reporting;
  }

  #mutAsks(): Record<number, Ask> {
    if (!this.#copied.asks) {
      this.#asks = { ...this.#asks };
      this.#copied.asks = true;
    }
    return this.#asks;
  }

  get #cfg(): Required<CascadeConfig> {
    return this.#s.config;
  }

  on(e: CascadeEvent<R>): void {
    switch (e.type) {
      case "trigger":
        return this.#trigger(e.reason);
      case "published":
        return this.#published(e.changed, e.failed ?? false, e.view);
      case "direct_done":
      case "relayed_done":
        return this.#dialResult(e.type, e.peer, e.serial, e.ok, e.view);
      case "timer":
        return this.#timer(e.timer, e.view);
      case "opened":
        return this.#opened(e);
      case "reported":
        if (this.#reporting[e.peer] === e.seq) delete this.#mutReporting()[e.peer];
        return;
      case "asked":
        return this.#asked(e.ask, e.failed ?? false, e.view);
      case "session_up":
        return this.#sessionUp(e.peer, e.view);
      case "handed_over":
        return this.#askOne("session", e.peer, e.view);
      case "notified":
        if (e.named.length === 0 || !e.view.sessions.some((s) => s.id === e.from)) return;
        return this.#askOne("notify", e.from, e.view);
      case "close":
        return this.#close(e.view);
    }
  }

  #trigger(reason: string): void {
    if (this.#s.closed) return;
    if (this.#s.retrying) {
      this.#s.retrying = false;
      this.actions.push({ type: "cancel_timer", timer: "retry" });
    }
    const run = this.#s.run;
    if (run) {
      this.#s.run = { ...run, again: true };
      return;
    }
    this.#s.run = {
      reason,
      startedAt: this.#now,
      again: false,
      tried: [],
      round: 0,
      step: "publishing",
      waiting: emptyTable(),
      learnt: 0,
    };
    this.actions.push({ type: "publish" });
  }

  #published(changed: boolean, failed: boolean, view: CascadeView): void {
    const run = this.#s.run;
    if (!run || run.step !== "publishing") return;
    if (failed) return this.#abort(run);
    // Our own address changed: everyone is worth dialling again.
    this.#s.run = { ...run, round: 0, tried: changed ? [] : run.tried };
    this.#round(view);
  }

  /** Starts a round of the current pass: dial, then ask. */
  #round(view: CascadeView): void {
    const run = this.#s.run!;
    if (this.#s.closed || run.round >= this.#cfg.maxRounds) return this.#passDone(view);
    this.#s.rounds++;
    const tried = [...run.tried];
    const seen = new Set(tried); // 1,000 contacts: no scan of the list per contact
    const waits: [PeerId, true][] = [];
    for (const p of unreachedOf(view)) {
      const attempt = `${p.id} ${p.addresses.join(" ")}`;
      if (seen.has(attempt)) continue;
      seen.add(attempt);
      tried.push(attempt);
      // A dial of p already under way (or waiting out its yield) is joined, not repeated.
      if (dialOf(this.#dials, p.id)) waits.push([p.id, true]);
      else if (p.addresses.length > 0) {
        this.#startDial(p.id, p.addresses);
        waits.push([p.id, true]);
      }
    }
    const waiting = tableOf(waits);
    this.#s.run = { ...run, tried, waiting, step: "dialling" };
    if (waiting.size === 0) this.#dialsDone(view);
  }

  /** The round's dials are done: ask every session for whoever is still missing. */
  #dialsDone(view: CascadeView): void {
    const run = this.#s.run!;
    const wanted = unreachedOf(view).filter((p) => !p.anchor);
    // Nobody left, only anchors left (nobody holds their records), or nobody to ask.
    if (this.#s.closed || wanted.length === 0 || view.sessions.length === 0) {
      return this.#passDone(view);
    }
    const ask = this.#ask("round", anchorsFirst(view.sessions).map((s) => s.id), wanted);
    this.#s.run = { ...run, step: "asking", ask, waiting: emptyTable() };
  }

  #asked(id: number, failed: boolean, view: CascadeView): void {
    const ask = this.#asks[id];
    if (!ask) return;
    delete this.#mutAsks()[id];
    const learnt = failed ? 0 : ask.learnt.length;
    if (ask.purpose === "round") {
      const run = this.#s.run;
      if (!run || run.ask !== id) return;
      if (failed) return this.#abort(run);
      if (learnt === 0) return this.#passDone(view);
      this.#s.run = { ...run, round: run.round + 1 };
      return this.#round(view);
    }
    if (learnt > 0) {
      this.#trigger(ask.purpose === "session" ? "learnt from a new session" : "notified");
    }
  }

  /** A pass ended: another if triggered meanwhile, else the run ends. */
  #passDone(view: CascadeView): void {
    const run = this.#s.run!;
    if (run.again && !this.#s.closed) {
      const { ask: _, ...rest } = run;
      this.#s.run = { ...rest, again: false, step: "publishing", waiting: emptyTable() };
      this.actions.push({ type: "publish" });
      return;
    }
    this.#s.run = null;
    const left = unreachedOf(view).length;
    if (left === 0 || this.#s.closed) {
      this.#s.retryAttempt = 0;
      this.#noteAllReached(view);
    } else {
      const [jitter, seed] = mulberry32(this.#s.seed);
      this.#s.seed = seed;
      const ms = retryDelay(this.#s.retryAttempt++, this.#cfg, jitter);
      if (this.#s.retryAttempt === 1) {
        this.actions.push({ type: "backing_off", reason: run.reason, left });
      }
      this.#s.retrying = true;
      this.actions.push({ type: "set_timer", timer: "retry", ms });
    }
    this.actions.push(runDone(run, false, this.#now));
  }

  /** An error ended the run: no retry is set (a later trigger starts afresh). */
  #abort(run: Run): void {
    this.#s.run = null;
    this.actions.push(runDone(run, true, this.#now));
  }

  /** Notes, once per cascade, that every contact has a session again and after how many rounds. */
  #noteAllReached(view: CascadeView): void {
    if (this.#s.rounds === 0 || this.#s.closed || unreachedOf(view).length > 0) return;
    if (view.peers.length > 0) {
      this.actions.push({
        type: "all_reached",
        contacts: view.peers.length,
        rounds: this.#s.rounds,
      });
    }
    this.#s.rounds = 0;
  }

  #ask(purpose: AskPurpose, sessions: PeerId[], wanted: readonly CascadePeer[]): number {
    const ask = this.#s.serial++;
    this.#mutAsks()[ask] = { purpose, learnt: [] };
    this.actions.push({ type: "ask", ask, sessions, peers: wanted.map((p) => p.id) });
    return ask;
  }

  /** Asks one session for whoever we are missing (a new session, or one that notified us). */
  #askOne(purpose: AskPurpose, session: PeerId, view: CascadeView): void {
    const wanted = unreachedOf(view).filter((p) => !p.anchor);
    if (wanted.length > 0) this.#ask(purpose, [session], wanted);
  }

  #opened(e: Extract<CascadeEvent<R>, { type: "opened" }>): void {
    // Checked and claimed in one step: a seq is reported once at a time.
    const busy = this.#reporting[e.peer] ?? 0;
    if (e.record.seq <= Math.max(e.knownSeq, busy)) return;
    this.#mutReporting()[e.peer] = e.record.seq;
    const run = this.#s.run;
    if (run) this.#s.run = { ...run, learnt: run.learnt + 1 };
    const ask = this.#asks[e.ask];
    if (ask && !ask.learnt.includes(e.peer)) {
      this.#mutAsks()[e.ask] = { ...ask, learnt: [...ask.learnt, e.peer] };
    }
    // Dial the new addresses while the record is being stored.
    this.#dialLearnt(e.peer, e.record.addresses, e.view);
    this.actions.push({ type: "report", peer: e.peer, record: e.record, from: e.from });
  }

  /**
   * Dials a contact whose record was just learnt, at its new addresses. The
   * larger key of the two waits yieldMs first: the other side has usually
   * learnt our record at the same moment, and two crossing dials cost two SSH
   * handshakes for one session.
   */
  #dialLearnt(peer: PeerId, addresses: readonly string[], view: CascadeView): void {
    if (this.#s.closed || dialOf(this.#dials, peer) || hasSession(view, peer)) return;
    if (yieldsTo(this.#cfg.self, peer) && this.#cfg.yieldMs > 0) {
      this.#dials = tableWith(this.#dials, peer, {
        serial: this.#s.serial++,
        addresses,
        yielding: true,
        relays: "none",
      });
      this.actions.push({ type: "set_timer", timer: `yield:${peer}`, ms: this.#cfg.yieldMs });
    } else this.#startDial(peer, addresses);
  }

  #startDial(peer: PeerId, addresses: readonly string[]): void {
    const serial = this.#s.serial++;
    const relays = this.#cfg.relayed ? "head_start" : "none";
    this.#dials = tableWith(this.#dials, peer, { serial, addresses, yielding: false, relays });
    this.actions.push({ type: "dial", peer, serial, addresses });
    if (relays === "head_start") {
      this.actions.push({
        type: "set_timer",
        timer: `relays:${peer}`,
        ms: this.#cfg.relayHeadStartMs,
      });
    }
  }

  #dialResult(
    kind: "direct_done" | "relayed_done",
    peer: PeerId,
    serial: number,
    ok: boolean,
    view: CascadeView,
  ): void {
    const d = dialOf(this.#dials, peer);
    if (!d || d.serial !== serial || d.yielding) return;
    const session = hasSession(view, peer);
    if (kind === "relayed_done") {
      if (d.direct !== undefined) return this.#dialDone(peer, d.direct || ok || session, view);
      this.#dials = tableWith(this.#dials, peer, { ...d, relays: ok });
      return;
    }
    // A dial that is done now is not written first (#dialDone drops it): one copy less a dial.
    if (d.relays === "none") return this.#dialDone(peer, ok || session, view);
    if (typeof d.relays === "boolean") return this.#dialDone(peer, ok || d.relays || session, view);
    const next: Dial = { ...d, direct: ok };
    this.#dials = tableWith(this.#dials, peer, next);
    if (d.relays === "dialling") return;
    // The direct dial answered within the head start.
    this.actions.push({ type: "cancel_timer", timer: `relays:${peer}` });
    if (ok || session) return this.#dialDone(peer, true, view);
    if (this.#s.closed) return this.#dialDone(peer, session, view);
    this.#dials = tableWith(this.#dials, peer, { ...next, relays: "dialling" });
    this.actions.push({ type: "dial_relayed", peer, serial });
  }

  #timer(timer: TimerName, view: CascadeView): void {
    if (timer === "retry") {
      if (!this.#s.retrying) return;
      this.#s.retrying = false;
      return this.#trigger("retry");
    }
    const [kind, peer] = timer.split(":") as ["yield" | "relays", PeerId];
    const d = dialOf(this.#dials, peer);
    if (!d) return;
    if (kind === "yield") {
      if (!d.yielding) return;
      if (this.#s.closed || hasSession(view, peer)) return this.#dialDone(peer, false, view);
      return this.#startDial(peer, d.addresses);
    }
    if (d.relays !== "head_start" || d.direct !== undefined) return;
    // The direct addresses had their head start. A direct path that answers
    // later still replaces a relayed session (peers/ prefers it).
    if (hasSession(view, peer)) return this.#dialDone(peer, true, view);
    if (this.#s.closed) {
      this.#dials = tableWith(this.#dials, peer, { ...d, relays: "none" });
      return;
    }
    this.#dials = tableWith(this.#dials, peer, { ...d, relays: "dialling" });
    this.actions.push({ type: "dial_relayed", peer, serial: d.serial });
  }

  #dialDone(peer: PeerId, _ok: boolean, view: CascadeView): void {
    this.#dials = tableWith(this.#dials, peer, undefined);
    const run = this.#s.run;
    if (!run || run.step !== "dialling" || !tableGet(run.waiting, peer)) return;
    const waiting = tableWith(run.waiting, peer, undefined);
    this.#s.run = { ...run, waiting };
    if (waiting.size === 0) this.#dialsDone(view);
  }

  #sessionUp(peer: PeerId, view: CascadeView): void {
    // A learnt record's dial waiting out its yield: the other side dialled first.
    if (dialOf(this.#dials, peer)?.yielding) {
      this.actions.push({ type: "cancel_timer", timer: `yield:${peer}` });
      this.#dialDone(peer, false, view);
    }
    this.#noteAllReached(view);
  }

  #close(view: CascadeView): void {
    if (this.#s.closed) return;
    this.#s.closed = true;
    if (this.#s.retrying) {
      this.#s.retrying = false;
      this.actions.push({ type: "cancel_timer", timer: "retry" });
    }
    for (const [peer, d] of tableEntries(this.#dials)) {
      if (d.yielding) {
        this.actions.push({ type: "cancel_timer", timer: `yield:${peer}` });
        this.#dialDone(peer, false, view);
      } else if (d.relays === "head_start") {
        // No relays after close: the dial ends with its direct addresses.
        this.actions.push({ type: "cancel_timer", timer: `relays:${peer}` });
        this.#dials = tableWith(this.#dials, peer, { ...d, relays: "none" });
      }
    }
  }
}

function runDone(
  run: Run,
  failed: boolean,
  now: number,
): Extract<CascadeAction, { type: "run_done" }> {
  return {
    type: "run_done",
    failed,
    startedAt: run.startedAt,
    ms: now - run.startedAt,
    learnt: run.learnt,
  };
}

function hasSession(view: CascadeView, peer: PeerId): boolean {
  return view.sessions.some((s) => s.id === peer);
}
