/**
 * The contacts as the cascade sees them (its view's peers, and each contact
 * by id), built again only when the host's peers() answers a new array: a
 * run feeds the cascade a view at every step, one per dial answered, and
 * rebuilding 1,000 contacts at each made a start with that many cost
 * hundreds of MB of garbage and seconds of CPU.
 */
import type { CascadeView, PeerId } from "./cascade_state.ts";
import type { KnownPeer } from "./discovery_host.ts";

export class PeerViews {
  readonly #hexOf: (key: Uint8Array) => PeerId;
  #from: readonly KnownPeer[] | null = null;
  #peers: CascadeView["peers"] = [];
  #known = new Map<PeerId, KnownPeer>();

  constructor(hexOf: (key: Uint8Array) => PeerId) {
    this.#hexOf = hexOf;
  }

  /** The view's peers and the contacts by id, for the host's peers() as answered now. */
  of(from: readonly KnownPeer[]): { peers: CascadeView["peers"]; known: Map<PeerId, KnownPeer> } {
    if (from !== this.#from) {
      const known = new Map<PeerId, KnownPeer>();
      this.#peers = from.map((p) => {
        const id = this.#hexOf(p.publicKey);
        known.set(id, p);
        return { id, addresses: p.addresses, anchor: p.anchor, recordSeq: p.recordSeq };
      });
      this.#from = from;
      this.#known = known;
    }
    return { peers: this.#peers, known: this.#known };
  }
}
