/**
 * The live sessions of a node: at most one per peer key, so one per device
 * of a contact (a person's own key and each certified device key of theirs,
 * node/linking, each have a slot).
 *
 * When two nodes dial each other at the same moment each ends up with two
 * sessions. Both keep the one opened by the node with the smaller public key
 * (the same rule on both sides, so they agree without talking); between two
 * sessions opened from the same side, the newer wins (the older is likely dead).
 * Before either rule, a direct session beats one spliced through a relay: both
 * sides know which is which, so they agree, and a node that finds a direct
 * path to a peer it reaches through a relay moves to it by just opening it.
 *
 * Of a person's sessions, one is their primary (`get`): the first kept, until
 * it ends (then another of theirs, if one is up). What is per person (address
 * records, relays, mail, receipts) runs on the primary; chat sync on each.
 */
import { compareBytes, toHex } from "../log/mod.ts";
import type { RpcSession } from "../protocol/mod.ts";

export interface PeerSession {
  /** The contact (a person's key, whichever of their devices the session comes from). */
  readonly peer: Uint8Array;
  /** The contact's device the session comes from (its own key), if not the contact's key. */
  readonly device?: Uint8Array;
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

/** The slot of a session: its person, and the device key (none for the person's own). */
function slotOf(peer: Uint8Array, device?: Uint8Array): string {
  return device ? `${toHex(peer)}/${toHex(device)}` : toHex(peer);
}

export class PeerSet {
  readonly #self: Uint8Array;
  readonly #bySlot = new Map<string, PeerSession>();
  /** Each person's primary slot, by the person's key in hex. */
  readonly #primary = new Map<string, string>();

  constructor(self: Uint8Array) {
    this.#self = self;
  }

  /** The person's primary session. */
  get(peer: Uint8Array): PeerSession | undefined {
    const slot = this.#primary.get(toHex(peer));
    return slot === undefined ? undefined : this.#bySlot.get(slot);
  }

  /** The session from this key of the person (`device` none: the person's own key). */
  at(peer: Uint8Array, device?: Uint8Array): PeerSession | undefined {
    return this.#bySlot.get(slotOf(peer, device));
  }

  /** Every session of the person, the primary first. */
  of(peer: Uint8Array): PeerSession[] {
    const k = toHex(peer);
    const primary = this.get(peer);
    const rest = [...this.#bySlot.values()].filter((s) => s !== primary && toHex(s.peer) === k);
    return primary ? [primary, ...rest] : rest;
  }

  /** The primary session of each person. */
  all(): PeerSession[] {
    return [...this.#primary.values()].map((slot) => this.#bySlot.get(slot)!);
  }

  /** Every session, each device's. */
  every(): PeerSession[] {
    return [...this.#bySlot.values()];
  }

  /** Which of two sessions with the same peer to keep. */
  #prefer(old: PeerSession, next: PeerSession): PeerSession {
    if ((old.via === undefined) !== (next.via === undefined)) {
      return old.via === undefined ? old : next;
    }
    if (old.direction === next.direction) return next;
    const initiator = (s: PeerSession) => (s.direction === "out" ? this.#self : s.device ?? s.peer);
    return compareBytes(initiator(old), initiator(next)) <= 0 ? old : next;
  }

  /**
   * Adds a session; returns whether it was kept. The loser is closed.
   */
  add(session: PeerSession): boolean {
    const k = slotOf(session.peer, session.device);
    const old = this.#bySlot.get(k);
    if (old && !old.rpc.closed) {
      const keep = this.#prefer(old, session);
      if (keep === old) {
        session.rpc.close("duplicate session");
        return false;
      }
      // Replace before closing, so the old session's close is not taken for a lost peer.
      this.#bySlot.set(k, session);
      old.rpc.close("duplicate session");
      return true;
    }
    this.#bySlot.set(k, session);
    const person = toHex(session.peer);
    if (!this.#primary.has(person)) this.#primary.set(person, k);
    return true;
  }

  /** Forgets a session that closed (if it is still the current one in its slot). */
  remove(session: PeerSession): boolean {
    const k = slotOf(session.peer, session.device);
    if (this.#bySlot.get(k) !== session) return false;
    this.#bySlot.delete(k);
    const person = toHex(session.peer);
    if (this.#primary.get(person) === k) {
      this.#primary.delete(person);
      const next = [...this.#bySlot.entries()].find(([, s]) => toHex(s.peer) === person);
      if (next) this.#primary.set(person, next[0]);
    }
    return true;
  }
}
