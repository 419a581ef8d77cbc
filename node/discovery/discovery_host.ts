/**
 * The node, as discovery sees it (DiscoveryHost), and what discovery sees of
 * its contacts and sessions. node.ts implements the host.
 */
import type { Clock } from "../clock/mod.ts";
import type { KeyPair, Signer } from "../identity/mod.ts";
import type { RpcSession } from "../protocol/mod.ts";
import type { DialRace } from "../peers/mod.ts";
import type { SignedRecord } from "./address_record.ts";
import type { CascadeNote } from "./cascade_state.ts";

/** What discovery needs to know about a contact. */
export interface KnownPeer {
  readonly publicKey: Uint8Array;
  readonly name: string;
  readonly addresses: string[];
  readonly anchor: boolean;
  /** Highest record seq seen from them. */
  readonly recordSeq: number;
}

export interface LiveSession {
  readonly peer: Uint8Array;
  readonly rpc: RpcSession;
  readonly anchor: boolean;
}

/** The node, as discovery sees it. */
export interface DiscoveryHost {
  readonly keyPair: KeyPair;
  readonly signer: Signer;
  /** A passive anchor publishes nothing and dials nobody. */
  readonly passive: boolean;
  now(): number;
  log(line: string): void;
  /** Accepted contacts (people and anchors). */
  peers(): KnownPeer[];
  sessions(): LiveSession[];
  session(peer: Uint8Array): LiveSession | undefined;
  /**
   * Dials one address of a contact; true when a session is up. With `race`,
   * the session is kept only if race.claim() says it came first.
   */
  dial(peer: KnownPeer, address: string, race?: DialRace): Promise<boolean>;
  /** A newer record of a contact was learnt. */
  learnt(peer: Uint8Array, record: SignedRecord, via: string): Promise<void>;
  /** The addresses to publish now. */
  addresses(): string[];
  /**
   * Keys of peers that relay for this node, to name in its record while it
   * cannot be dialled from outside (node/relay); empty when it can.
   */
  relays?(): Uint8Array[];
  /**
   * Reaches a contact through a relay its record names, once every direct
   * address failed (node/relay). True when a session is up.
   */
  dialRelayed?(peer: KnownPeer): Promise<boolean>;
  /**
   * What the cascade did (every contact reached after N rounds, backing off,
   * a run ended), as structured events beside the log lines.
   */
  note?(note: CascadeNote): void;
}

export type PeerState = "connected" | "dialing" | "unreachable";

export interface DiscoveryOptions {
  /** Rounds of dial-and-ask before falling back to timed retries. @default 8 */
  readonly maxRounds?: number;
  /** First retry delay; doubles up to maxRetryMs. @default 1000 */
  readonly retryMs?: number;
  /** @default 60000 */
  readonly maxRetryMs?: number;
  /**
   * How long the larger key of two contacts waits before dialling a record it
   * just learnt, since the other side has usually learnt ours at the same
   * moment and its session is the one both keep. @default 1500
   */
  readonly yieldMs?: number;
  /**
   * Runs the retry, yield and relay head-start timers, and seeds the retry
   * jitter. @default systemClock
   */
  readonly clock?: Clock;
}
