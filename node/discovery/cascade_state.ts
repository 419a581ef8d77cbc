/**
 * The reconnect cascade's state, the events the shell reports and the actions
 * it runs: the vocabulary of stepCascade (cascade.ts).
 */

/** A contact's public key, lower-case hex. */
import type { DialTable, PeerTable } from "./dial_table.ts";

export type PeerId = string;

/** What the cascade knows of a contact. */
export interface CascadePeer {
  readonly id: PeerId;
  readonly addresses: readonly string[];
  readonly anchor: boolean;
  /** Highest record seq seen from them. */
  readonly recordSeq: number;
}

/** A live session, as the cascade sees it. */
export interface CascadeSession {
  readonly id: PeerId;
  readonly anchor: boolean;
}

/** The host's contacts and sessions when an event is reported. */
export interface CascadeView {
  /** Accepted contacts (people and anchors), in the host's order. */
  readonly peers: readonly CascadePeer[];
  readonly sessions: readonly CascadeSession[];
}

/** What the cascade needs of a record it learnt (the shell's record type extends it). */
export interface CascadeRecord {
  readonly seq: number;
  readonly addresses: readonly string[];
}

/** Tunables, as DiscoveryOptions resolves them. */
export interface CascadeConfig {
  /** Our key, hex: the larger key of a pair yields. */
  readonly self: PeerId;
  /** Rounds of dial-and-ask before falling back to timed retries. @default 8 */
  readonly maxRounds?: number;
  /** First retry delay; doubles up to maxRetryMs. @default 1000 */
  readonly retryMs?: number;
  /** @default 60000 */
  readonly maxRetryMs?: number;
  /** The larger key's wait before dialling a learnt record. @default 1500 */
  readonly yieldMs?: number;
  /** Whether the host can reach a contact through relays its record names. @default false */
  readonly relayed?: boolean;
  /**
   * How long a contact's addresses are dialled alone before its relays are
   * asked too (a router drops dials to a NATed peer silently, so a failed
   * direct dial takes a whole dial timeout to say so). @default 1000
   */
  readonly relayHeadStartMs?: number;
}

/** A timer the shell runs: the run's retry, a learnt record's yield, a dial's relay head start. */
export type TimerName = "retry" | `yield:${PeerId}` | `relays:${PeerId}`;

/** One contact being dialled (or waiting to be). */
export interface Dial {
  /** Tells this dial's results from those of an earlier dial of the same peer. */
  readonly serial: number;
  readonly addresses: readonly string[];
  /** Waiting out the yield before a learnt record's dial; nothing dialled yet. */
  readonly yielding: boolean;
  /** The direct dial's result, once it is in. */
  readonly direct?: boolean;
  /**
   * The relays: their head start is running, they are being dialled, their
   * result, or "none" (no relays for this dial: the host has none, or it closed).
   */
  readonly relays: "head_start" | "dialling" | "none" | boolean;
}

/** Why an ask was made, which decides what its answer leads to. */
export type AskPurpose = "round" | "session" | "notify";

export interface Ask {
  readonly purpose: AskPurpose;
  /** Peers a newer record was learnt for. */
  readonly learnt: readonly PeerId[];
}

/** A run of the cascade, from its trigger to its last pass. */
export interface Run {
  readonly reason: string;
  readonly startedAt: number;
  /** Triggered again while running: one more pass once this one ends. */
  readonly again: boolean;
  /** "peer addresses" dialled in vain in this run: a later round dials only what changed. */
  readonly tried: readonly string[];
  /** The round of the current pass, from 0. */
  readonly round: number;
  readonly step: "publishing" | "dialling" | "asking";
  /** The dials this round waits for. */
  readonly waiting: PeerTable<true>;
  /** The ask this round waits for. */
  readonly ask?: number;
  /** Newer records learnt while it runs (by any ask). */
  readonly learnt: number;
}

export interface CascadeState {
  readonly config: Required<CascadeConfig>;
  readonly closed: boolean;
  readonly run: Run | null;
  /** Retries since everyone was last reached (the back-off's exponent). */
  readonly retryAttempt: number;
  /** Whether the retry timer is set. */
  readonly retrying: boolean;
  /** Dial-and-ask rounds since every contact was last reached. */
  readonly rounds: number;
  /** Read with dial_table.ts's dialOf and dialPeers. */
  readonly dials: DialTable;
  /** Record seqs being reported to the host now: concurrent asks report each once. */
  readonly reporting: Readonly<Record<PeerId, number>>;
  readonly asks: Readonly<Record<number, Ask>>;
  readonly serial: number;
  /** State of the jitter's generator (mulberry32), seeded by the shell from its Clock. */
  readonly seed: number;
}

export type CascadeEvent<R extends CascadeRecord = CascadeRecord> =
  /** Run now (coalesced with a run in progress). */
  | { readonly type: "trigger"; readonly reason: string }
  /** The publish action's answer: whether a new record was signed; failed aborts the run. */
  | {
    readonly type: "published";
    readonly changed: boolean;
    readonly failed?: boolean;
    readonly view: CascadeView;
  }
  | {
    readonly type: "direct_done" | "relayed_done";
    readonly peer: PeerId;
    readonly serial: number;
    readonly ok: boolean;
    readonly view: CascadeView;
  }
  | { readonly type: "timer"; readonly timer: TimerName; readonly view: CascadeView }
  /** A session that `ask` asked served this record of `peer`, checked by the shell. */
  | {
    readonly type: "opened";
    readonly ask: number;
    readonly peer: PeerId;
    readonly from: PeerId;
    /** The peer's record seq when the ask was made. */
    readonly knownSeq: number;
    readonly record: R;
    readonly view: CascadeView;
  }
  /** The host has taken in (or failed to take in) the reported record. */
  | { readonly type: "reported"; readonly peer: PeerId; readonly seq: number }
  /** Every session of the ask answered (or failed); failed: reporting a record threw. */
  | {
    readonly type: "asked";
    readonly ask: number;
    readonly failed?: boolean;
    readonly view: CascadeView;
  }
  /** A session with `peer` came up. */
  | { readonly type: "session_up"; readonly peer: PeerId; readonly view: CascadeView }
  /** Our records were handed over on the new session with `peer`. */
  | { readonly type: "handed_over"; readonly peer: PeerId; readonly view: CascadeView }
  /** `from` says fresh copies arrived for these unreached people's tags. */
  | {
    readonly type: "notified";
    readonly from: PeerId;
    readonly named: readonly PeerId[];
    readonly view: CascadeView;
  }
  | { readonly type: "close"; readonly view: CascadeView };

export type CascadeAction<R extends CascadeRecord = CascadeRecord> =
  /** Sign and store a new record if the addresses changed; answer "published". */
  | { readonly type: "publish" }
  /** Dial these addresses of `peer` (IPv6 first); answer "direct_done". */
  | {
    readonly type: "dial";
    readonly peer: PeerId;
    readonly serial: number;
    readonly addresses: readonly string[];
  }
  /** Reach `peer` through a relay its record names; answer "relayed_done". */
  | { readonly type: "dial_relayed"; readonly peer: PeerId; readonly serial: number }
  /** Ask these sessions, all at once, for the records of `peers`; answer "opened"…, then "asked". */
  | {
    readonly type: "ask";
    readonly ask: number;
    readonly sessions: readonly PeerId[];
    readonly peers: readonly PeerId[];
  }
  /** Give the host this newer record of `peer`, which `from` served; answer "reported". */
  | { readonly type: "report"; readonly peer: PeerId; readonly record: R; readonly from: PeerId }
  | { readonly type: "set_timer"; readonly timer: TimerName; readonly ms: number }
  | { readonly type: "cancel_timer"; readonly timer: TimerName }
  /** Every contact has a session again, after this many rounds (once per cascade). */
  | { readonly type: "all_reached"; readonly contacts: number; readonly rounds: number }
  /** The first retry of a series: `left` contacts were not reached. */
  | { readonly type: "backing_off"; readonly reason: string; readonly left: number }
  /**
   * The run ended (failed: aborted by an error, no retry set): when it
   * started, how long it took, and how many newer records it learnt.
   */
  | {
    readonly type: "run_done";
    readonly failed: boolean;
    readonly startedAt: number;
    readonly ms: number;
    readonly learnt: number;
  };

export interface CascadeStep<R extends CascadeRecord = CascadeRecord> {
  readonly state: CascadeState;
  readonly actions: readonly CascadeAction<R>[];
}

/** The actions that only tell what happened: for the log, the node's events and tests. */
export type CascadeNote = Extract<
  CascadeAction,
  { readonly type: "all_reached" | "backing_off" | "run_done" }
>;
