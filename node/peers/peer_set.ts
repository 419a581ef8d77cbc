/**
 * The live sessions of a node, at most one per peer.
 *
 * When two nodes dial each other at the same moment each ends up with two
 * sessions. Both keep the one opened by the node with the smaller public key
 * (the same rule on both sides, so they agree without talking); between two
 * sessions opened from the same side, the newer wins (the older is likely dead).
 * Before either rule, a direct session beats one spliced through a relay: both
 * sides know which is which, so they agree, and a node that finds a direct
 * path to a peer it reaches through a relay moves to it by just opening it.
 */
import { compareBytes, toHex } from "../log/mod.ts";
import type { RpcSession } from "../protocol/mod.ts";

export interface PeerSession {
  readonly peer: Uint8Array;
  /** "out": we dialled; "in": they did. */
  readonly direction: "in" | "out";
  readonly rpc: RpcSession;
  readonly remote: string;
  readonly since: number;
  /** The relay's name when the session is spliced through one (node/relay). */
  readonly via?: string;
  /** "punched": SSH inside QUIC through a punched UDP path; "lan": found by a LAN announcement (node/lan). @default "direct" */
  readonly path?: "direct" | "punched" | "lan";
}

export class PeerSet {
  readonly #self: Uint8Array;
  readonly #byPeer = new Map<string, PeerSession>();

  constructor(self: Uint8Array) {
    this.#self = self;
  }

  get(peer: Uint8Array): PeerSession | undefined {
    return this.#byPeer.get(toHex(peer));
  }

  all(): PeerSession[] {
    return [...this.#byPeer.values()];
  }

  /** Which of two sessions with the same peer to keep. */
  #prefer(old: PeerSession, next: PeerSession): PeerSession {
    if ((old.via === undefined) !== (next.via === undefined)) {
      return old.via === undefined ? old : next;
    }
    if (old.direction === next.direction) return next;
    const initiator = (s: PeerSession) => (s.direction === "out" ? this.#self : s.peer);
    return compareBytes(initiator(old), initiator(next)) <= 0 ? old : next;
  }

  /**
   * Adds a session; returns whether it was kept. The loser is closed.
   */
  add(session: PeerSession): boolean {
    const k = toHex(session.peer);
    const old = this.#byPeer.get(k);
    if (old && !old.rpc.closed) {
      const keep = this.#prefer(old, session);
      if (keep === old) {
        session.rpc.close("duplicate session");
        return false;
      }
      // Replace before closing, so the old session's close is not taken for a lost peer.
      this.#byPeer.set(k, session);
      old.rpc.close("duplicate session");
      return true;
    }
    this.#byPeer.set(k, session);
    return true;
  }

  /** Forgets a session that closed (if it is still the current one). */
  remove(session: PeerSession): boolean {
    const k = toHex(session.peer);
    if (this.#byPeer.get(k) !== session) return false;
    this.#byPeer.delete(k);
    return true;
  }
}
