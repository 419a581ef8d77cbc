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
import type { PersonAgreeOf } from "./record_seals.ts";
import type { RecordDropReason } from "../api/mod.ts";

export type { RecordDropReason };

/** Where a newer record came from: the contact itself, or a peer or anchor holding a sealed copy. */
export interface RecordSource {
  readonly source: "direct" | "peer" | "anchor";
  /** The holder's name (for "peer" and "anchor"). */
  readonly holder?: string;
}

/**
 * What discovery did, beside its log lines: the cascade's notes, and its own
 * about records (published, dropped, handed over).
 */
export type DiscoveryNote =
  | CascadeNote
  /** We signed a new record. */
  | {
    readonly type: "published";
    readonly seq: number;
    readonly addresses: readonly string[];
    readonly relays: number;
  }
  /** A record of `owner` (named `name` here) handed over by `from` was not taken. */
  | {
    readonly type: "dropped";
    readonly owner: Uint8Array;
    readonly name: string;
    readonly from: string;
    readonly reason: RecordDropReason;
    readonly seq?: number;
    readonly have?: number;
  }
  /** Our record and copies went to a new session's peer (ok), or that failed. */
  | { readonly type: "handed_over"; readonly peer: Uint8Array; readonly ok: boolean };

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
  /** The X25519 key a contact published (its key is in ssh-agent). @default none */
  readonly agreeKeyOf?: (them: Uint8Array) => Uint8Array | undefined;
  /** The person agreement keys (devagree1), read at each use. @default none */
  readonly personAgree?: NonNullable<PersonAgreeOf["personAgree"]>;
  readonly signer: Signer;
  /** A passive anchor publishes nothing and dials nobody. */
  readonly passive: boolean;
  /** What sealed copies are filed under for their uploader (its key, or an anchor's member id). */
  readonly storedId?: (uploader: Uint8Array) => Uint8Array;
  now(): number;
  log(line: string): void;
  /** Accepted contacts (people and anchors); the same array again while none changed (never change it). */
  peers(): readonly KnownPeer[];
  sessions(): LiveSession[];
  session(peer: Uint8Array): LiveSession | undefined;
  /**
   * Dials one address of a contact; true when a session is up. With `race`,
   * the session is kept only if race.claim() says it came first.
   */
  dial(peer: KnownPeer, address: string, race?: DialRace): Promise<boolean>;
  /** A newer record of a contact was learnt. */
  learnt(peer: Uint8Array, record: SignedRecord, from: RecordSource): Promise<void>;
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
   * What discovery did (every contact reached after N rounds, backing off, a
   * run ended, a record published, dropped or handed over), as structured
   * events beside the log lines.
   */
  note?(note: DiscoveryNote): void;
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
