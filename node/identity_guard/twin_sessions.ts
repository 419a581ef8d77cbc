/**
 * Two live nodes behind one key, as a contact sees them (pure, `now` passed in).
 *
 * Every hello carries the sender's instance id, new at each start. A session
 * from a peer replaces the older one (peers/peer_set.ts): after a restart or
 * a NAT rebinding the old one is dead and never comes back. Two nodes running
 * on one key (a copied data folder, an adopted key) take turns instead, each
 * replacing the other as it redials, for ever. So a session whose instance
 * was live here within the window, arriving while another instance's session
 * is up, is the twin: the contact keeps the session that is up, refuses the
 * newcomer, and tells both (`identity.elsewhere`, node/identity_guard).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TwinSessions } from "./twin_sessions.ts";
 *
 * const t = new TwinSessions();
 * assert.equal(t.judge("alice", "x", undefined, 0), false); // first session
 * assert.equal(t.judge("alice", "y", "x", 1000), false); // y replaces x (x may be dead)
 * assert.equal(t.judge("alice", "x", "y", 1100), true); // x is back while y is up: two nodes
 * ```
 */

/** How long an instance counts as lately live. @default */
export const TWIN_WINDOW_MS = 60_000;
/** Instances remembered per peer, and peers remembered. */
const MAX_INSTANCES = 8;
const MAX_PEERS = 4096;

export class TwinSessions {
  readonly #windowMs: number;
  /** Per peer (hex): instance id → when last live here (ms). */
  readonly #seen = new Map<string, Map<string, number>>();

  constructor(windowMs = TWIN_WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  /**
   * A session of `peer` from `instance` arrives while `live` (the instance of
   * its session that is up, if any) is up. True when they are two nodes on
   * one key: keep `live`'s session and refuse this one.
   */
  judge(
    peer: string,
    instance: string | undefined,
    live: string | undefined,
    now: number,
  ): boolean {
    if (instance === undefined) return false; // an older peer says none
    let seen = this.#seen.get(peer);
    if (!seen) {
      if (this.#seen.size >= MAX_PEERS) this.#seen.delete(this.#seen.keys().next().value!);
      this.#seen.set(peer, seen = new Map());
    }
    for (const [i, at] of seen) if (now - at >= this.#windowMs) seen.delete(i);
    const last = seen.get(instance);
    const twin = live !== undefined && live !== instance && last !== undefined;
    if (live !== undefined) seen.set(live, now);
    if (!twin) seen.set(instance, now);
    while (seen.size > MAX_INSTANCES) seen.delete(seen.keys().next().value!);
    return twin;
  }
}
