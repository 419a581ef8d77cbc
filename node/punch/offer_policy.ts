/**
 * Whether the target of a punch takes an offer (punch.offer), as pure
 * functions of (facts, recent offers, now): an offer makes us send QUIC
 * packets to the endpoint it names, so a contact must not be able to aim
 * them (issue 17, item 8).
 *
 * The rule: the endpoint must be one a coordinator observed for that
 * contact. The coordinator says where it saw the asker, and the asker vouches
 * for it (vouch.ts): signed, naming this coordinator and us, not expired. On
 * top of that the endpoint must be an address the coordinator can have seen
 * from where we see it (over the internet, no address of our own network),
 * and every asker, coordinator and endpoint is rate-limited.
 */
import { ipKind, parseIp, unmapIp } from "../ip/mod.ts";

/** Offers taken per asker within OFFER_WINDOW_MS; a punch tries each coordinator once. */
export const OFFERS_PER_ASKER = 6;
/** Offers taken through one coordinator within OFFER_WINDOW_MS, for all askers. */
export const OFFERS_PER_COORDINATOR = 12;
export const OFFER_WINDOW_MS = 60_000;
/** Different endpoints taken per asker within ENDPOINT_WINDOW_MS (a NAT remaps, a laptop moves). */
export const ENDPOINTS_PER_ASKER = 3;
export const ENDPOINT_WINDOW_MS = 10 * 60_000;
/** A vouch may expire at most this far ahead of our clock (its 5 min, and room for skew). */
export const MAX_VOUCH_AHEAD_MS = 15 * 60_000;
/** Offers remembered for the limits; the oldest go first. */
export const MAX_OFFER_HISTORY = 256;

/** An offer taken: who asked, through whom, to where, when. */
export interface TakenOffer {
  /** Hex keys. */
  readonly asker: string;
  readonly coordinator: string;
  readonly endpoint: string;
  readonly at: number;
}

/** What the target knows of an offer when it decides. */
export interface OfferFacts {
  readonly asker: string;
  readonly coordinator: string;
  /** "ip:port", parsed. */
  readonly endpoint: string;
  /** The endpoint's host. */
  readonly endpointHost: string;
  /** The host we see the coordinator's session at. */
  readonly coordinatorHost: string;
  /** The asker, or the coordinator naming itself as the asker, has a session with us. */
  readonly connected: boolean;
  /** Our NAT maps each destination to a new port. */
  readonly symmetric: boolean;
  /** The vouch: missing, with a bad signature, or good until `expires`. */
  readonly vouch: { readonly valid: false; readonly present: boolean } | {
    readonly valid: true;
    readonly expires: number;
  };
  /** Offers being handled now, and how many may be. */
  readonly inFlight: number;
  readonly maxInFlight: number;
}

export type OfferRefusal =
  | "connected"
  | "symmetric-nat"
  | "unvouched"
  | "unobserved"
  | "busy"
  | "rate-limited";

export type OfferDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: OfferRefusal; readonly reason: string };

type Scope = "loopback" | "local" | "global";

/** Where an address is, for the scope rule; null for what no one sends to. */
function scopeOf(host: string): Scope | null {
  const ip = parseIp(host);
  switch (ip && ipKind(unmapIp(ip))) {
    case "loopback":
      return "loopback";
    case "private":
    case "cgnat":
    case "link-local":
    case "site-local":
    case "unique-local":
      return "local";
    case "global":
      return "global";
    default: // unspecified, multicast, broadcast, reserved, not an IP
      return null;
  }
}

/**
 * Whether a coordinator we see at `coordinatorHost` can have seen a peer's
 * packets come from `endpointHost`: one across the internet sees internet
 * addresses only; one on a local network also that network's; one on this
 * machine anything. Never an address no packet comes from.
 */
export function plausibleObservation(coordinatorHost: string, endpointHost: string): boolean {
  const c = scopeOf(coordinatorHost);
  const e = scopeOf(endpointHost);
  if (c === null || e === null) return false;
  if (c === "loopback") return true;
  if (c === "local") return e !== "loopback";
  return e === "global";
}

const refuse = (code: OfferRefusal, reason: string): OfferDecision => ({ ok: false, code, reason });

/** Whether to take an offer at `now`, given the offers taken before (see recordOffer). */
export function decideOffer(
  f: OfferFacts,
  taken: readonly TakenOffer[],
  now: number,
): OfferDecision {
  if (f.connected || f.asker === f.coordinator) {
    return refuse("connected", "connected already");
  }
  if (f.symmetric) {
    return refuse("symmetric-nat", "behind a symmetric NAT: no punched path; use a relay");
  }
  if (!f.vouch.valid) {
    return refuse(
      "unvouched",
      f.vouch.present
        ? "the asker's vouch for its endpoint does not check"
        : "the asker did not vouch for its endpoint",
    );
  }
  if (f.vouch.expires <= now) return refuse("unvouched", "the asker's vouch has expired");
  if (f.vouch.expires > now + MAX_VOUCH_AHEAD_MS) {
    return refuse("unvouched", "the asker's vouch is dated too far ahead");
  }
  if (!plausibleObservation(f.coordinatorHost, f.endpointHost)) {
    return refuse("unobserved", "the coordinator cannot have seen the asker at that address");
  }
  if (f.inFlight >= f.maxInFlight) return refuse("busy", "too many punches at once");
  const recent = taken.filter((t) => now - t.at < OFFER_WINDOW_MS);
  if (recent.filter((t) => t.asker === f.asker).length >= OFFERS_PER_ASKER) {
    return refuse("rate-limited", "too many punches from this contact; try later");
  }
  if (recent.filter((t) => t.coordinator === f.coordinator).length >= OFFERS_PER_COORDINATOR) {
    return refuse("rate-limited", "too many punches through this coordinator; try later");
  }
  const endpoints = new Set(
    taken.filter((t) => t.asker === f.asker && now - t.at < ENDPOINT_WINDOW_MS).map((t) =>
      t.endpoint
    ),
  );
  if (!endpoints.has(f.endpoint) && endpoints.size >= ENDPOINTS_PER_ASKER) {
    return refuse("rate-limited", "too many endpoints for this contact; try later");
  }
  return { ok: true };
}

/** The offers remembered after taking `offer`: the ones still inside a window, at most MAX_OFFER_HISTORY. */
export function recordOffer(taken: readonly TakenOffer[], offer: TakenOffer): TakenOffer[] {
  const kept = taken.filter((t) => offer.at - t.at < ENDPOINT_WINDOW_MS);
  kept.push(offer);
  return kept.slice(-MAX_OFFER_HISTORY);
}
