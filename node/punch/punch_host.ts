/** The node as punching sees it, and what a punch reports (see punch.ts). */
import type { Clock } from "../clock/mod.ts";
import type { Signer } from "../identity/mod.ts";
import { RojError } from "../errors.ts";
import { PUNCH_FEATURE, type RpcSession } from "../protocol/mod.ts";
import type { NatMapping } from "../reach/mod.ts";
import type { Endpoint, QuicService, SocketLike } from "../transport/mod.ts";
import type { OfferRefusal } from "./offer_policy.ts";

/** The hello feature of a node that can coordinate punches (defined in protocol/features.ts). */
export { PUNCH_FEATURE };

/** A coordinator's answer when the target is behind a symmetric NAT. */
export const SYMMETRIC_TARGET =
  "the target is behind a symmetric NAT: no punched path; a relay is the way";

/** A live session, as punching sees it. */
export interface PunchSession {
  readonly peer: Uint8Array;
  readonly rpc: RpcSession;
  /** "host:port" of the far end of the session. */
  readonly remote: string;
}

/** Why a punch failed as a whole. */
export type PunchFailure =
  /** This node has no UDP endpoint. */
  | "no-udp"
  /** No connected peer can coordinate one. */
  | "no-coordinator"
  /** We are behind a symmetric NAT: no punch can work, a relay is the way. */
  | "symmetric-nat"
  /** The peer got connected meanwhile. */
  | "connected"
  /** Every coordinator tried failed (see the attempts). */
  | "coordinators-failed"
  | "error";

/** Why one coordinator's attempt failed. */
export type PunchAttemptCode =
  /** Our QUIC probe to the coordinator got no answer. */
  | "probe-failed"
  /** The coordinator says the target is behind a symmetric NAT. */
  | "target-symmetric-nat"
  /** The target cannot be reached through the coordinator (or refused: the two look the same). */
  | "not-found"
  | "refused"
  | "busy"
  | "timeout"
  /** The QUIC handshake to the target's endpoint got no answer (a NAT on the way may map each destination to a new port). */
  | "no-answer"
  /** A session with the target was up by the time ours was. */
  | "exists"
  | "error";

/** Where a coordinator's attempt stood when it failed. */
export type PunchStage = "ask-probe" | "probe" | "ask" | "dial" | "attach";

/** The code of an attempt that failed at `stage` with `err`. */
export function attemptCode(stage: PunchStage, err: unknown): PunchAttemptCode {
  if (stage === "probe") return "probe-failed";
  if (stage === "dial") return "no-answer";
  if (stage === "attach") return "exists";
  if ((err as Error | undefined)?.message === SYMMETRIC_TARGET) return "target-symmetric-nat";
  if (err instanceof RojError) {
    if (err.code === "not_found") return "not-found";
    if (err.code === "refused" || err.code === "busy" || err.code === "timeout") return err.code;
  }
  return "error";
}

/**
 * What punching tells the node as it goes, beside the log lines for people:
 * keys, codes and values (the node makes events of them, api/NodeEvent).
 */
export type PunchNote =
  /** A punch to `peer` worked, coordinated by `via`. */
  | {
    readonly type: "punched";
    readonly peer: Uint8Array;
    readonly via: Uint8Array;
    readonly endpoint: string;
  }
  | {
    readonly type: "punch-failed";
    readonly peer: Uint8Array;
    readonly code: PunchFailure;
    readonly attempts: readonly { readonly via: Uint8Array; readonly code: PunchAttemptCode }[];
  }
  /** As the target: contact `from` asked, through `via`, for a punched path. */
  | {
    readonly type: "offer";
    readonly from: Uint8Array;
    readonly via: Uint8Array;
    readonly accepted: true;
    readonly endpoint: string;
  }
  | {
    readonly type: "offer";
    readonly from: Uint8Array;
    readonly via: Uint8Array;
    readonly accepted: false;
    readonly code: OfferRefusal;
  }
  /** As a coordinator: `asker` was introduced to `target`. */
  | { readonly type: "introduced"; readonly asker: Uint8Array; readonly target: Uint8Array }
  /** The verdict on our NAT changed, from where coordinators saw our UDP endpoint. */
  | {
    readonly type: "nat-mapping";
    readonly mapping: NatMapping["kind"];
    readonly observations: readonly {
      readonly observer: string;
      readonly host: string;
      readonly port: number;
    }[];
  };

/** The node, as punching sees it. */
export interface PunchHost {
  /** Our key: of two contacts, the smaller key punches first. */
  readonly publicKey: Uint8Array;
  /** Signs our vouch for the endpoint a coordinator saw us at (vouch.ts). */
  readonly signer: Signer;
  /**
   * Times the automatic punches, probes and retries, and draws the retries'
   * jitter; its `now` unless `now` is given. @default systemClock
   */
  readonly clock?: Clock;
  /** The time punching goes by. @default clock.now */
  now?(): number;
  log(line: string): void;
  /** Told what happened, for the node's events. @default nothing */
  note?(n: PunchNote): void;
  /** The node's QUIC endpoint, if it has one. */
  quic(): QuicService | undefined;
  sessions(): PunchSession[];
  /** Whether `peer` is an accepted, unblocked contact. */
  accepted(peer: Uint8Array): boolean;
  name(peer: Uint8Array): string;
  /** Contacts (not anchors) that have no session. */
  unreached(): Uint8Array[];
  /** Runs SSH over `socket` to `peer` and keeps it as a punched session; true when kept. */
  attach(peer: Uint8Array, socket: SocketLike, at: Endpoint): Promise<boolean>;
}

/** A punch's outcome; a failure says why (`reason` for people), with each coordinator's attempt. */
export type PunchResult =
  | { readonly ok: true; readonly via: string; readonly endpoint: string }
  | {
    readonly ok: false;
    readonly code: PunchFailure;
    readonly reason: string;
    readonly attempts: readonly { readonly via: string; readonly code: PunchAttemptCode }[];
  };

/** The host with its time settled (`now` from the host, else from its clock) and its notes. */
export interface PunchEnv {
  readonly host: PunchHost;
  readonly clock: Clock;
  now(): number;
  /** The host's `note`, or nothing; a failing listener is its own. */
  note(n: PunchNote): void;
}

/** Whether the session's peer can coordinate a punch (it said so in its hello). */
export function canCoordinate(s: PunchSession): boolean {
  return !s.rpc.closed && (s.rpc.peerHello?.features.includes(PUNCH_FEATURE) ?? false);
}
