/**
 * Which sessions tell us anything about being reachable from outside.
 *
 * A peer on our own LAN dials us back at our LAN address and gets through,
 * though nobody beyond the home router could: that is no evidence of outside
 * reachability, and trusting it made a NATed node publish itself as directly
 * reachable (naming no relays, so contacts outside could not reach it at all).
 * So a peer counts only when it is outside our own networks:
 *
 * - the session runs over a direct or punched path, not a relay or the LAN;
 * - its far end is on no subnet of ours (else no router stood between us);
 * - it does not see us at one of our own private addresses (else no NAT stood
 *   between us: it is inside the same private network, e.g. a routed office
 *   network or a VPN, and the outside may still not get in).
 *
 * - it reaches us over IPv4: the verdict is published once, for every
 *   contact, and most still have IPv4 only. A node reachable over global IPv6
 *   but behind an IPv4 NAT that counted an IPv6 peer would name no relays, and
 *   its IPv4-only contacts could not reach it at all; naming relays it turns
 *   out not to need costs nothing (direct dials go first).
 *
 * The same rules decide whether an inbound session is itself the evidence: a
 * peer outside our networks that dialled us directly over TCP has just done
 * what a dial-back would do, so no dial-back is needed (node/relay).
 */
import { isIPv6 } from "../transport/mod.ts";
import { isOwnAddress, isPrivateAddress, type LocalNetwork, onOwnLink } from "./networks.ts";

/** A session as reachability sees it. */
export interface Observation {
  /** How the session runs. */
  readonly path: "direct" | "punched" | "lan" | "relayed";
  /** The far end's host (IP literal) as our socket sees it; undefined when relayed. */
  readonly remoteHost?: string;
  /** The host the peer says it sees us at (its hello), if it said. */
  readonly seesHost?: string;
}

/** Why a session tells nothing of our reachability, as a code a script can use. */
export type NoEvidence =
  /** It runs through a relay. */
  | "relayed"
  /** It was found by a LAN announcement. */
  | "lan"
  /** Its peer reaches us over IPv6, which says nothing of IPv4. */
  | "ipv6"
  /** Its peer is on a subnet of ours. */
  | "own-subnet"
  /** Its peer sees us at our own private address: no NAT between us. */
  | "own-private-address"
  /** We dialled it (only an inbound session is evidence by itself). */
  | "we-dialled"
  /** It runs over a punched UDP path (only TCP is evidence by itself). */
  | "punched";

export type Evidence =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: NoEvidence; readonly reason: string };

/** Whether a peer of this session stands outside our own networks (see the module comment). */
export function outsidePeer(o: Observation, networks: readonly LocalNetwork[]): Evidence {
  if (o.path === "relayed" || o.remoteHost === undefined) {
    return { ok: false, code: "relayed", reason: "the session runs through a relay" };
  }
  if (o.path === "lan") return { ok: false, code: "lan", reason: "the peer is on our LAN" };
  if (isIPv6(o.remoteHost)) {
    return {
      ok: false,
      code: "ipv6",
      reason: "the peer reaches us over IPv6, which says nothing of IPv4",
    };
  }
  if (onOwnLink(o.remoteHost, networks)) {
    return {
      ok: false,
      code: "own-subnet",
      reason: `the peer (${o.remoteHost}) is on a subnet of ours`,
    };
  }
  if (
    o.seesHost !== undefined && isPrivateAddress(o.seesHost) && isOwnAddress(o.seesHost, networks)
  ) {
    return {
      ok: false,
      code: "own-private-address",
      reason: `the peer sees us at our own private address ${o.seesHost} (no NAT between us)`,
    };
  }
  return { ok: true };
}

/**
 * Whether an inbound session is itself evidence that we are reachable from
 * outside: a peer outside our networks dialled us directly over TCP.
 */
export function inboundEvidence(
  o: Observation & { readonly direction: "in" | "out" },
  networks: readonly LocalNetwork[],
): Evidence {
  if (o.direction !== "in") return { ok: false, code: "we-dialled", reason: "we dialled" };
  if (o.path !== "direct") {
    return {
      ok: false,
      code: o.path,
      reason: `the path is ${o.path}`,
    };
  }
  return outsidePeer(o, networks);
}
