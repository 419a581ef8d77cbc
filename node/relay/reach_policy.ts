/**
 * What reachability decides, as pure functions: which peers to ask for a
 * dial-back and at which address, what a new session or a check's outcome
 * means, whose dial-back to run, and which relays to name in our record.
 * Requests and timers live in reachability.ts.
 */
import { RELAY_FEATURE } from "../protocol/mod.ts";
import {
  inboundEvidence,
  type LocalNetwork,
  type NoEvidence,
  type Observation,
  outsidePeer,
} from "../reach/mod.ts";
import { type Endpoint, formatEndpoint, parseEndpoint, unmapIPv4 } from "../transport/mod.ts";
import type { Decision } from "./relay_policy.ts";
import type { RelayPeerSession } from "./relay_host.ts";

/**
 * How long after the first session the first reachability check runs. Not at
 * once: contacts that learn our new record dial us within about this long
 * (the cascade), and such a session from outside our networks answers the
 * question without the dial-back's extra SSH handshake. A node behind NAT
 * gets no such session and names its relays this much later.
 */
export const FIRST_CHECK_DELAY_MS = 2000;
/** After every checker was busy: try again after this long, plus up to as much again (jitter). */
export const BUSY_RETRY_MS = 2000;
/** Dial-backs this node runs for others at once. */
export const MAX_DIAL_BACKS = 4;
/** Peers asked per check, at most; relays named in a record, at most. */
const MAX_CHECKERS = 2;
const MAX_RELAYS_NAMED = 4;

/** A session as reachability (node/reach) sees it. */
export function observe(s: RelayPeerSession): Observation {
  const remoteHost = s.via === undefined ? hostOf(s.remote) : undefined;
  const seesHost = hostOf(s.rpc.peerHello?.sees);
  return {
    path: s.via !== undefined ? "relayed" : s.path ?? "direct",
    ...(remoteHost !== undefined ? { remoteHost } : {}),
    ...(seesHost !== undefined ? { seesHost } : {}),
  };
}

/** Whether `s` is a direct session a peer outside our networks dialled: reachability shown. */
export function dialledFromOutside(
  s: RelayPeerSession,
  networks: readonly LocalNetwork[],
): boolean {
  return inboundEvidence({ ...observe(s), direction: s.direction }, networks).ok;
}

/** What this node knows of its reachability when a session comes up. */
export interface ReachState {
  /** Undefined until a check or a session answered. */
  readonly reachable: boolean | undefined;
  /** When reachability was last settled (ms; 0: never). */
  readonly lastCheck: number;
  /** A check is under way or scheduled. */
  readonly pending: boolean;
}

/** What to do about a new direct session. */
export type SessionAction =
  | { readonly type: "reachable" }
  | { readonly type: "check-later"; readonly ms: number }
  | { readonly type: "check" }
  | { readonly type: "republish" }
  | { readonly type: "none" };

/**
 * A direct session came up at `now`. One that a peer outside dialled is
 * itself the evidence a dial-back would give. Else: the first check a moment
 * later (so that a second peer can check too, or dial us); a check when the
 * last is older than `recheckMs`; while unreachable, a new relay is worth
 * naming.
 */
export function sessionAction(
  state: ReachState,
  s: RelayPeerSession,
  networks: readonly LocalNetwork[],
  now: number,
  recheckMs: number,
): SessionAction {
  if (dialledFromOutside(s, networks)) return { type: "reachable" };
  if (state.reachable === undefined) {
    return state.pending ? { type: "none" } : { type: "check-later", ms: FIRST_CHECK_DELAY_MS };
  }
  if (now - state.lastCheck > recheckMs) return { type: "check" };
  if (state.reachable === false && offersRelay(s)) return { type: "republish" };
  return { type: "none" };
}

/** The peers to ask for a dial-back, and those that may not, with why (said once per session). */
export function pickCheckers(
  live: readonly RelayPeerSession[],
  networks: readonly LocalNetwork[],
): {
  checkers: RelayPeerSession[];
  skipped: Array<{ s: RelayPeerSession; code: NoEvidence; reason: string }>;
} {
  const checkers: RelayPeerSession[] = [];
  const skipped: Array<{ s: RelayPeerSession; code: NoEvidence; reason: string }> = [];
  for (const s of live) {
    const outside = outsidePeer(observe(s), networks);
    if (outside.ok) checkers.push(s);
    // A LAN neighbour's dial-back would get through where the outside's does not.
    else skipped.push({ s, code: outside.code, reason: outside.reason });
  }
  return { checkers: checkers.slice(0, MAX_CHECKERS), skipped };
}

/**
 * The addresses a checker that sees us at `sees` ("host:port") may dial
 * back: only published ones at the host it sees (nobody learns an address
 * from a check); behind NAT that is the router's, so our port there (a port
 * forward would answer). None when `sees` is no endpoint.
 */
export function dialBackAddresses(
  sees: string | undefined,
  published: readonly string[],
): string[] {
  let seen: string;
  try {
    // An older peer on a dual-stack socket may report us as ::ffff:a.b.c.d.
    seen = unmapIPv4(parseEndpoint(sees ?? "").host);
  } catch {
    return [];
  }
  const candidates = published.filter((a) => hostOf(a) === seen);
  const port = published[0] ? portOf(published[0]) : undefined;
  if (candidates.length === 0 && port) return [formatEndpoint({ host: seen, port })];
  return candidates;
}

/** How a round of dial-back requests went. */
export interface CheckOutcome {
  /** A checker answered either way. */
  readonly tried: boolean;
  readonly reached: boolean;
  /** A checker was busy or timed out. */
  readonly busy: boolean;
}

/** What a check's outcome means for the state. */
export type CheckAction =
  | { readonly type: "conclude"; readonly reached: boolean }
  | { readonly type: "retry"; readonly ms: number }
  | { readonly type: "none" };

/**
 * A check answered: the verdict, if a checker tried. If they were all busy
 * (an anchor after a whole hive moved) and nothing is known yet: again soon,
 * jittered by `random` in [0, 1), by when a contact may have dialled us,
 * which needs no dial-back. With no checker at all, the next session that
 * comes up schedules the check.
 */
export function afterCheck(
  o: CheckOutcome,
  reachable: boolean | undefined,
  random: number,
): CheckAction {
  if (o.tried) return { type: "conclude", reached: o.reached };
  if (o.busy && reachable === undefined) {
    return { type: "retry", ms: BUSY_RETRY_MS + random * BUSY_RETRY_MS };
  }
  return { type: "none" };
}

/**
 * Whether to dial a peer back at `to`, asked over a session whose far end is
 * `remote`: only the address we see it at, not through a relay, and at most
 * MAX_DIAL_BACKS at once.
 */
export function decideDialBack(to: Endpoint, remote: string, running: number): Decision {
  let seen: string;
  try {
    seen = unmapIPv4(parseEndpoint(remote).host);
  } catch {
    return { ok: false, code: "refused", reason: "no dial-back through a relay" };
  }
  if (to.host !== seen) {
    return {
      ok: false,
      code: "refused",
      reason: "only the address this node sees you at is dialled back",
    };
  }
  if (running >= MAX_DIAL_BACKS) {
    return { ok: false, code: "busy", reason: "too many dial-backs at once" };
  }
  return { ok: true };
}

/** Keys to name in our record: none unless unreachable; else relaying peers we dialled, anchors first. */
export function relaysToName(
  reachable: boolean | undefined,
  sessions: readonly RelayPeerSession[],
): Uint8Array[] {
  if (reachable !== false) return [];
  return sessions
    .filter((s) => s.via === undefined && s.direction === "out" && !s.rpc.closed && offersRelay(s))
    .sort((x, y) => Number(y.anchor) - Number(x.anchor))
    .slice(0, MAX_RELAYS_NAMED)
    .map((s) => s.peer);
}

/** The peer said in its hello that it relays. */
export function offersRelay(s: RelayPeerSession): boolean {
  return s.rpc.peerHello?.features.includes(RELAY_FEATURE) ?? false;
}

function portOf(address: string): number | undefined {
  try {
    return parseEndpoint(address).port;
  } catch {
    return undefined;
  }
}

function hostOf(address: string | undefined): string | undefined {
  try {
    return parseEndpoint(address ?? "").host;
  } catch {
    return undefined;
  }
}
