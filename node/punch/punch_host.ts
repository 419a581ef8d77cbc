/** The node as punching sees it, and what a punch reports (see punch.ts). */
import type { Clock } from "../clock/mod.ts";
import { PUNCH_FEATURE, type RpcSession } from "../protocol/mod.ts";
import type { Endpoint, QuicService, SocketLike } from "../transport/mod.ts";

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

/** The node, as punching sees it. */
export interface PunchHost {
  /** Our key: of two contacts, the smaller key punches first. */
  readonly publicKey: Uint8Array;
  /**
   * Times the automatic punches, probes and retries, and draws the retries'
   * jitter; its `now` unless `now` is given. @default systemClock
   */
  readonly clock?: Clock;
  /** The time punching goes by. @default clock.now */
  now?(): number;
  log(line: string): void;
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

export type PunchResult =
  | { readonly ok: true; readonly via: string; readonly endpoint: string }
  | { readonly ok: false; readonly reason: string };

/** The host with its time settled: `now` from the host, else from its clock. */
export interface PunchEnv {
  readonly host: PunchHost;
  readonly clock: Clock;
  now(): number;
}

/** Whether the session's peer can coordinate a punch (it said so in its hello). */
export function canCoordinate(s: PunchSession): boolean {
  return !s.rpc.closed && (s.rpc.peerHello?.features.includes(PUNCH_FEATURE) ?? false);
}
