/** The node as the relay sees it, and the sessions it knows of (see relay.ts). */
import type { Duplex } from "node:stream";
import type { Clock } from "../clock/mod.ts";
import type { RpcSession } from "../protocol/mod.ts";
import type { LocalNetwork, NoEvidence } from "../reach/mod.ts";
import type { Endpoint, SshClient } from "../transport/mod.ts";

/** A live session with a peer, as the relay sees it. */
export interface RelayPeerSession {
  readonly peer: Uint8Array;
  readonly rpc: RpcSession;
  readonly direction: "in" | "out";
  /** The relay's name, when this session is itself relayed. */
  readonly via?: string;
  readonly anchor: boolean;
  /** How the session runs when not relayed (reachability counts only direct peers outside our networks). @default "direct" */
  readonly path?: "direct" | "punched" | "lan";
  /** "host:port" of the far end as our socket sees it ("via …" when relayed). */
  readonly remote: string;
}

/**
 * What the relay and reachability tell the node as they go, beside the log
 * lines for people: keys, codes and values (the node makes events of them,
 * api/NodeEvent). Codes of refusals are RojError codes.
 */
export type RelayNote =
  /** Our reachability verdict changed: a dial-back got through or failed, or `peer` dialled us from outside. */
  | {
    readonly type: "reachability";
    readonly reachable: boolean;
    readonly how: "dialled-back" | "dial-back-failed" | "inbound";
    readonly peer?: Uint8Array;
  }
  /** A peer was not asked to dial us back: its session tells nothing (once per session). */
  | { readonly type: "dial-back-skipped"; readonly peer: Uint8Array; readonly code: NoEvidence }
  /** We dialled `peer` back at its request. */
  | {
    readonly type: "dial-back";
    readonly peer: Uint8Array;
    readonly address: string;
    readonly reached: boolean;
  }
  /** What our record is to name changed (asked by the publisher): none while reachable or unknown. */
  | {
    readonly type: "relays-named";
    readonly reachable: boolean | undefined;
    readonly relays: readonly Uint8Array[];
  }
  /** As a relay: a splice between two members began, ended, or was refused. */
  | {
    readonly type: "splice";
    readonly state: "up";
    readonly from: Uint8Array;
    readonly to: Uint8Array;
  }
  | {
    readonly type: "splice";
    readonly state: "ended";
    readonly from: Uint8Array;
    readonly to: Uint8Array;
    readonly bytes: number;
  }
  | {
    readonly type: "splice";
    readonly state: "refused";
    readonly from: Uint8Array;
    readonly to: Uint8Array;
    readonly code: string;
  }
  /** As the asker: relay `via` did not get us to `peer`. */
  | {
    readonly type: "relay-failed";
    readonly peer: Uint8Array;
    readonly via: Uint8Array;
    readonly code: string;
  }
  /** A relayed session with `peer` was replaced by a direct one. */
  | { readonly type: "moved-direct"; readonly peer: Uint8Array };

/** The node, as the relay sees it. */
export interface RelayHost {
  readonly self: Uint8Array;
  readonly passive: boolean;
  /**
   * Times the relay's checks, pacing and retries, and draws their jitter;
   * its `now` unless `now` is given. @default systemClock
   */
  readonly clock?: Clock;
  /** The time the relay's decisions go by. @default clock.now */
  now?(): number;
  log(line: string): void;
  /** Told what happened, for the node's events. @default nothing */
  note?(n: RelayNote): void;
  /** How a key is shown in this node's log: petname or fingerprint. */
  nameOf(peer: Uint8Array): string;
  /** An accepted, unblocked contact. */
  accepts(peer: Uint8Array): boolean;
  /** A contact, blocked or not: what the relay keeps about anyone else is dropped. */
  known(peer: Uint8Array): boolean;
  session(peer: Uint8Array): RelayPeerSession | undefined;
  sessions(): RelayPeerSession[];
  /** A new SSH connection to a contact (not through a relay), us as the client. */
  dialClient(peer: Uint8Array): Promise<SshClient>;
  /** Serves SSH, exactly as on the listener, on a stream spliced by relay `via`. */
  serveStream(stream: Duplex, via: string): void;
  /** Runs SSH to `peer` over a spliced stream and makes the session live; true when it was kept. */
  dialOver(stream: Duplex, peer: Uint8Array, via: string): Promise<boolean>;
  /** Dials `peer` directly while a relayed session is up; true when a direct session replaced it. */
  dialDirect(peer: Uint8Array): Promise<boolean>;
  /** Dials `to` and checks that `peer`'s key answers there; closes at once. */
  dialBack(to: Endpoint, peer: Uint8Array): Promise<boolean>;
  /** The addresses this node publishes. */
  addresses(): string[];
  /** The machine's own (non-loopback) networks: a peer on them proves nothing about the outside. */
  localNetworks(): LocalNetwork[];
  /** Reachability or the relays to name changed: publish a fresh record. */
  republish(reason: string): void;
}

export interface RelayTiming {
  /** How often to look again whether this node is reachable. @default 300000 */
  readonly recheckMs?: number;
  /** How often a relayed session tries to become direct. @default 60000 */
  readonly upgradeMs?: number;
}

/** The host with its time settled (`now` from the host, else from its clock) and its notes. */
export interface RelayEnv {
  readonly host: RelayHost;
  readonly clock: Clock;
  now(): number;
  /** The host's `note`, or nothing; a failing listener is its own. */
  note(n: RelayNote): void;
}
