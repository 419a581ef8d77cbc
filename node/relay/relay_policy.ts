/**
 * What a relay decides, as pure functions of (state, request, now): whether
 * to splice a session, and how long a member's bytes must wait so that each
 * member stays under its share, and whether a target takes an offer. Sockets
 * and timers live in splicer.ts and relay.ts; reachability's decisions in
 * reach_policy.ts.
 */

/** Limits of one relay; see resolveRelayOptions for defaults. */
export interface RelayLimits {
  /** Relay for contacts at all (`roj run --no-relay` turns it off). */
  readonly enabled: boolean;
  /** Relayed sessions (live or being set up) one member may be part of at once. */
  readonly maxSessionsPerMember: number;
  /** Bytes per second a member may push through this relay, over all its sessions. */
  readonly bytesPerSecondPerMember: number;
}

export interface RelayOptions {
  /** @default true */
  readonly enabled?: boolean;
  /** @default 8 */
  readonly maxSessionsPerMember?: number;
  /** @default 4 MiB/s */
  readonly bytesPerSecondPerMember?: number;
}

export function resolveRelayLimits(o: RelayOptions = {}): RelayLimits {
  const limits = {
    enabled: o.enabled ?? true,
    maxSessionsPerMember: o.maxSessionsPerMember ?? 8,
    bytesPerSecondPerMember: o.bytesPerSecondPerMember ?? 4 * 1024 * 1024,
  };
  if (!(limits.maxSessionsPerMember >= 0) || !(limits.bytesPerSecondPerMember > 0)) {
    throw new RangeError(`bad relay limits ${JSON.stringify(limits)}`);
  }
  return limits;
}

/** What the relay knows when a member asks to be spliced to a target. */
export interface OpenRequest {
  readonly self: boolean;
  /** The asker and the target are both accepted contacts of the relay. */
  readonly targetKnown: boolean;
  /** The target has a live session with the relay that the relay can open channels on. */
  readonly targetConnected: boolean;
  /** The target's session is itself relayed (no chains of relays). */
  readonly targetRelayed: boolean;
  /** Relayed sessions each side is part of now. */
  readonly askerSessions: number;
  readonly targetSessions: number;
}

export type Decision =
  | { readonly ok: true }
  | {
    readonly ok: false;
    readonly code: "refused" | "not_found" | "busy" | "bad_input";
    readonly reason: string;
  };

/** Whether to ask the target at all; every refusal carries its reason for the asker. */
export function decideOpen(limits: RelayLimits, r: OpenRequest): Decision {
  if (!limits.enabled) {
    return {
      ok: false,
      code: "refused",
      reason: "this node does not relay for others (--no-relay)",
    };
  }
  if (r.self) return { ok: false, code: "bad_input", reason: "cannot relay to yourself" };
  if (!r.targetKnown || !r.targetConnected) {
    return { ok: false, code: "not_found", reason: "the target is not connected to this relay" };
  }
  if (r.targetRelayed) {
    return {
      ok: false,
      code: "not_found",
      reason: "the target reaches this relay only through another relay",
    };
  }
  const max = limits.maxSessionsPerMember;
  if (r.askerSessions >= max) {
    return {
      ok: false,
      code: "busy",
      reason: `you already have ${r.askerSessions} relayed sessions here (the limit is ${max})`,
    };
  }
  if (r.targetSessions >= max) {
    return {
      ok: false,
      code: "busy",
      reason:
        `the target already has ${r.targetSessions} relayed sessions here (the limit is ${max})`,
    };
  }
  return { ok: true };
}

/** A token bucket: bytes allowed at `rate` per second, `burst` at most saved up. */
export interface Bucket {
  /** Bytes that may pass now; negative is debt still to wait for. */
  readonly tokens: number;
  /** When tokens was computed (ms). */
  readonly at: number;
}

/**
 * Takes `n` bytes from the bucket. Returns the new bucket and how long (ms)
 * the bytes must wait so that the rate holds; they may go at once when
 * enough was saved up.
 */
export function takeTokens(
  b: Bucket,
  n: number,
  now: number,
  rate: number,
  burst = rate,
): { bucket: Bucket; waitMs: number } {
  const refilled = Math.min(burst, b.tokens + Math.max(0, now - b.at) * rate / 1000);
  const tokens = refilled - n;
  return {
    bucket: { tokens, at: Math.max(now, b.at) },
    waitMs: tokens >= 0 ? 0 : Math.ceil(-tokens * 1000 / rate),
  };
}

/** Relayed sessions this node, as a target, sets up at once; more offers are refused. */
export const MAX_OFFERS = 8;

/** What the target knows when a relay offers it a relayed session. */
export interface OfferRequest {
  /** This node is a passive anchor. */
  readonly passive: boolean;
  /** The asker's key is an accepted contact of ours. */
  readonly askerAccepted: boolean;
  /** Offers being set up now. */
  readonly offers: number;
}

/** Whether to take an offered relayed session; every refusal carries its reason for the asker. */
export function decideOffer(r: OfferRequest): Decision {
  if (r.passive) {
    return { ok: false, code: "refused", reason: "a passive anchor takes no relayed sessions" };
  }
  if (!r.askerAccepted) {
    return {
      ok: false,
      code: "refused",
      reason: "the target does not accept relayed sessions from your key",
    };
  }
  if (r.offers >= MAX_OFFERS) {
    return {
      ok: false,
      code: "busy",
      reason: "the target is setting up too many relayed sessions at once",
    };
  }
  return { ok: true };
}
