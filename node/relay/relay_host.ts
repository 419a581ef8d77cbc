/** The node as the relay sees it, and the sessions it knows of (see relay.ts). */
import type { Duplex } from "node:stream";
import type { Clock } from "../clock/mod.ts";
import type { RpcSession } from "../protocol/mod.ts";
import type { LocalNetwork } from "../reach/mod.ts";
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

/** The host with its time settled: `now` from the host, else from its clock. */
export interface RelayEnv {
  readonly host: RelayHost;
  readonly clock: Clock;
  now(): number;
}
