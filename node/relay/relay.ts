/**
 * Reaching peers behind NAT through a reachable peer (DESIGN.md point 7).
 *
 * A relayed session, like `ssh -J`:
 *
 *   A ──relay.open{to:B}──▶ R ──relay.offer{from:A,token}──▶ B
 *                           R ◀── B opens subsystem "roj-relay-<token>"
 *   A ◀──────{token}─────── R      (B answers only after opening it)
 *   A opens "roj-relay-<token>" ──▶ R splices the two channels
 *   A ══ SSH (B's host key checked, A authenticated by B) ══ B, inside them
 *
 * R sees only the ciphertext of the inner SSH session. B accepts only its own
 * contacts. R refuses, with a reason A gets back, when it does not relay
 * (--no-relay), when the target is not connected to it, or when a member is
 * over its share (relay_policy.ts). Both channels ride SSH connections that A
 * and B dialled to R, so a NATed node can take part: its connection out to R
 * is kept open by SSH keep-alives (transport/ssh.ts, every 15 s, under the
 * usual 30 s UDP and minutes-long TCP NAT timeouts).
 *
 * Reachability: a node asks peers it reaches directly to dial it back at the
 * address they see it at (reach.check). If nobody gets through, its address
 * record names the peers it dialled that relay (anchors first), and a contact
 * whose direct dials fail asks one of those (dialRelayed). A relayed session
 * is retried directly from time to time; the direct one wins in the peer set
 * and the relayed one closes (sync makes the switch lose nothing).
 *
 * The parts: splicer.ts (the relay's own role), reachability.ts (dial-backs),
 * relay_policy.ts and reach_policy.ts (their decisions, pure), and this file:
 * the asker's and the target's side, and the relays named in records.
 */
import type { Duplex } from "node:stream";
import { type Clock, systemClock, type TimerId } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import { toHex } from "../log/mod.ts";
import {
  decodeB64,
  encodeB64,
  type ParamsOf,
  type ResultOf,
  type RpcSession,
} from "../protocol/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import type { InboundPeer, SshClient } from "../transport/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { relayChannel } from "./relay_channel.ts";
import type { RelayEnv, RelayHost, RelayPeerSession, RelayTiming } from "./relay_host.ts";
import { decideOffer, type RelayOptions, resolveRelayLimits } from "./relay_policy.ts";
import { relaysToName } from "./reach_policy.ts";
import { Reachability } from "./reachability.ts";
import { type RelayTap, Splicer } from "./splicer.ts";

export { DIAL_BACK_TIMEOUT_MS } from "./reachability.ts";

export class Relay {
  readonly #host: RelayHost;
  readonly #env: RelayEnv;
  readonly #store: Store;
  readonly #splicer: Splicer;
  readonly #reach: Reachability;
  #upgradeMs = 60_000;
  #lastUpgrade = 0;
  /** Relays named in contacts' records, by contact hex. */
  readonly #relaysOf = new Map<string, Uint8Array[]>();
  /** Direct SSH connections we opened to relays (ours as the client), by peer hex. */
  readonly #clients = new Map<string, SshClient>();
  readonly #upgrading = new Set<string>();
  #offers = 0;
  /** The relays last told as named, with the verdict they went by. */
  #toldRelays: string | undefined;
  #interval: TimerId | undefined;
  #closed = false;

  private constructor(host: RelayHost, store: Store) {
    this.#host = host;
    this.#store = store;
    const clock: Clock = host.clock ?? systemClock;
    this.#env = {
      host,
      clock,
      now: host.now ? () => host.now!() : () => clock.now(),
      note: (n) => {
        try {
          host.note?.(n);
        } catch { /* a listener's failure is its own */ }
      },
    };
    this.#splicer = new Splicer(this.#env);
    this.#reach = new Reachability(this.#env);
  }

  /** Opens the relay with the relays contacts' records named, as stored. */
  static async open(host: RelayHost, store: Store): Promise<Relay> {
    const r = new Relay(host, store);
    for await (const e of store.kv.list<Uint8Array[]>({ prefix: keys.relaysOfAll() })) {
      const peer = e.key[2];
      if (!(peer instanceof Uint8Array) || !Array.isArray(e.value)) continue;
      // Lists of contacts removed before removal dropped them (older versions kept them).
      if (!host.known(peer)) await store.kv.delete(e.key);
      else r.#relaysOf.set(toHex(peer), e.value.filter((k) => k instanceof Uint8Array));
    }
    return r;
  }

  /**
   * A contact was removed: forget the relays its record named, drop it from
   * the lists of others (it relays nothing for us now), and end our direct
   * SSH connection to it and what we counted for it as a relay.
   */
  async forget(peer: Uint8Array): Promise<void> {
    const k = toHex(peer);
    const writes: Promise<unknown>[] = [];
    if (this.#relaysOf.delete(k)) writes.push(this.#store.kv.delete(keys.relaysOf(peer)));
    for (const [other, relays] of this.#relaysOf) {
      const kept = relays.filter((r) => !bytesEqual(r, peer));
      if (kept.length === relays.length) continue;
      const otherKey = fromHexKey(other);
      if (!otherKey) continue;
      if (kept.length > 0) {
        this.#relaysOf.set(other, kept);
        writes.push(this.#store.kv.set(keys.relaysOf(otherKey), kept));
      } else {
        this.#relaysOf.delete(other);
        writes.push(this.#store.kv.delete(keys.relaysOf(otherKey)));
      }
    }
    this.#clients.get(k)?.close();
    this.#clients.delete(k);
    this.#splicer.forget(k);
    await Promise.all(writes);
  }

  /** Applies the limits and starts the timers (node start). */
  start(options: RelayOptions = {}, timing: RelayTiming = {}): void {
    this.#splicer.limits = resolveRelayLimits(options);
    this.#reach.recheckMs = timing.recheckMs ?? this.#reach.recheckMs;
    this.#upgradeMs = timing.upgradeMs ?? this.#upgradeMs;
    if (this.#host.passive) return;
    const tick = Math.max(50, Math.min(this.#upgradeMs, this.#reach.recheckMs));
    this.#interval = this.#env.clock.setInterval(() => this.#tick(), tick);
  }

  /** Whether this node relays for its contacts (the "relay" hello feature). */
  get enabled(): boolean {
    return this.#splicer.limits.enabled;
  }

  /** Whether peers could dial this node, as far as it knows (undefined: not checked yet). */
  get reachable(): boolean | undefined {
    return this.#reach.reachable;
  }

  /** Relayed sessions live or being set up here. */
  get active(): number {
    return this.#splicer.active;
  }

  /** Bytes spliced since start, both directions. */
  get bytesRelayed(): number {
    return this.#splicer.bytesRelayed;
  }

  /** Splices made since start. */
  get splices(): number {
    return this.#splicer.splices;
  }

  /** Test and accounting hook: sees every chunk a splice forwards. Returns an unsubscribe. */
  tap(listener: RelayTap): () => void {
    return this.#splicer.tap(listener);
  }

  /** A direct session we dialled: its SSH connection can carry relay channels. */
  noteClient(peer: Uint8Array, client: SshClient): void {
    const k = toHex(peer);
    this.#clients.set(k, client);
    client.onClose(() => {
      if (this.#clients.get(k) === client) this.#clients.delete(k);
    });
  }

  async #clientTo(peer: Uint8Array): Promise<SshClient> {
    const known = this.#clients.get(toHex(peer));
    if (known) return known;
    const client = await this.#host.dialClient(peer);
    this.noteClient(peer, client);
    return client;
  }

  /** A peer opened a subsystem other than roj on its SSH connection to us; true takes it. */
  onChannel(peer: InboundPeer, subsystem: string, accept: () => Duplex): boolean {
    return this.#splicer.onChannel(peer, subsystem, accept);
  }

  // ---- as the target --------------------------------------------------------

  async #offered(
    relay: Uint8Array,
    params: ParamsOf<"relay.offer">,
  ): Promise<ResultOf<"relay.offer">> {
    const from = decodeB64(params.from);
    const d = decideOffer({
      passive: this.#host.passive,
      askerAccepted: from.length === 32 && this.#host.accepts(from),
      offers: this.#offers,
    });
    if (!d.ok) throw new RojError(d.code, d.reason);
    const via = this.#host.nameOf(relay);
    this.#offers++;
    let stream: Duplex;
    try {
      const client = await this.#clientTo(relay);
      stream = await client.openStream(relayChannel(params.token));
    } finally {
      this.#offers--;
    }
    this.#host.log(`${this.#host.nameOf(from)} is coming through ${via} (relayed)`);
    this.#host.serveStream(stream, via);
    return {};
  }

  // ---- as the asker ---------------------------------------------------------

  /** The relays `peer`'s record names (empty when it is reachable or unknown). */
  relaysOf(peer: Uint8Array): Uint8Array[] {
    return this.#relaysOf.get(toHex(peer)) ?? [];
  }

  /** A contact's newer record was learnt: keep the relays it names; try a direct path if relayed now. */
  async learnt(peer: Uint8Array, relays: readonly Uint8Array[] | undefined): Promise<void> {
    const k = toHex(peer);
    if (relays && relays.length > 0) {
      this.#relaysOf.set(k, [...relays]);
      await this.#store.kv.set(keys.relaysOf(peer), [...relays]);
    } else if (this.#relaysOf.delete(k)) {
      await this.#store.kv.delete(keys.relaysOf(peer));
    }
    if (this.#host.session(peer)?.via !== undefined) this.#upgrade(peer);
  }

  /**
   * Reaches `peer` through each relay its record names that we have a direct
   * session with, in turn, until one splices. True when a session is up.
   */
  async dialRelayed(peer: Uint8Array): Promise<boolean> {
    for (const relay of this.relaysOf(peer)) {
      if (this.#closed || this.#host.session(peer)) break;
      if (await this.dialVia(peer, relay)) return true;
    }
    return this.#host.session(peer) !== undefined;
  }

  /**
   * Reaches `peer` through `relay`, a contact we have a direct session with
   * (one its record names, or the person who introduced us). True when the
   * relayed session was kept; a failure is logged and noted.
   */
  async dialVia(peer: Uint8Array, relay: Uint8Array): Promise<boolean> {
    const s = this.#host.session(relay);
    if (this.#closed || !s || s.via !== undefined || bytesEqual(relay, this.#host.self)) {
      return false;
    }
    const name = this.#host.nameOf(relay);
    try {
      const res = await s.rpc.request("relay.open", { to: encodeB64(peer) }, 15_000);
      const client = await this.#clientTo(relay);
      const stream = await client.openStream(relayChannel(res.token));
      return await this.#host.dialOver(stream, peer, name);
    } catch (err) {
      this.#host.log(
        `cannot reach ${this.#host.nameOf(peer)} via ${name}: ${(err as Error).message}`,
      );
      this.#env.note({
        type: "relay-failed",
        peer,
        via: relay,
        code: err instanceof RojError ? err.code : "error",
      });
      return false;
    }
  }

  // ---- reachability ---------------------------------------------------------

  /**
   * Keys to name in our record: none while reachable; else relaying peers we
   * dialled, anchors first. Asked by the publisher, so a change is told
   * ("relays-named") as what the next record names.
   */
  relays(): Uint8Array[] {
    const reachable = this.#reach.reachable;
    const relays = relaysToName(reachable, this.#host.sessions());
    const told = `${reachable}:${relays.map(toHex).join(",")}`;
    if (told !== this.#toldRelays) {
      this.#toldRelays = told;
      this.#env.note({ type: "relays-named", reachable, relays });
    }
    return relays;
  }

  /**
   * A session came up. A direct TCP session that a peer outside our networks
   * dialled is itself the evidence a dial-back would give: we are reachable,
   * and no dial-back is asked for. Else check reachability if due; a new
   * relay is worth naming.
   */
  onSession(s: RelayPeerSession): void {
    this.#reach.onSession(s);
  }

  /** @see Reachability.check */
  checkReachability(): Promise<void> {
    return this.#reach.check();
  }

  // ---- moving to a direct path ------------------------------------------------

  #upgrade(peer: Uint8Array): void {
    const k = toHex(peer);
    if (this.#closed || this.#upgrading.has(k)) return;
    this.#upgrading.add(k);
    this.#host.dialDirect(peer).then((ok) => {
      if (!ok) return;
      this.#host.log(`moved ${this.#host.nameOf(peer)} to a direct path`);
      this.#env.note({ type: "moved-direct", peer });
    }).catch(() => {}).finally(() => this.#upgrading.delete(k));
  }

  #tick(): void {
    const now = this.#env.now();
    if (now - this.#lastUpgrade >= this.#upgradeMs) {
      this.#lastUpgrade = now;
      for (const s of this.#host.sessions()) if (s.via !== undefined) this.#upgrade(s.peer);
    }
    this.#reach.tick(now);
  }

  /** Serves relay.open, relay.offer and reach.check on a session with `peer`. */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    rpc.handle("relay.open", (p) => this.#splicer.open(peer, p));
    rpc.handle("relay.offer", (p) => this.#offered(peer, p));
    rpc.handle("reach.check", (p) => this.#reach.dialBack(peer, rpc, p));
  }

  close(): void {
    this.#closed = true;
    this.#env.clock.clearInterval(this.#interval);
    this.#reach.close();
    this.#splicer.close();
  }
}

/** The key a map of this file holds as hex (toHex), back as bytes. */
function fromHexKey(hex: string): Uint8Array | undefined {
  if (!/^[0-9a-f]{64}$/.test(hex)) return undefined;
  return Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
}
