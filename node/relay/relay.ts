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
 */
import type { Duplex } from "node:stream";
import { Transform } from "node:stream";
import { isRojError, RojError } from "../errors.ts";
import { toHex } from "../log/mod.ts";
import { check, decodeB64, encodeB64, RELAY_FEATURE, type RpcSession } from "../protocol/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import {
  type Endpoint,
  formatEndpoint,
  type InboundPeer,
  parseEndpoint,
  type SshClient,
  unmapEndpoint,
  unmapIPv4,
} from "../transport/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { RELAY_SUBSYSTEM_PREFIX } from "../identity/mod.ts";
import { inboundEvidence, type LocalNetwork, type Observation, outsidePeer } from "../reach/mod.ts";
import {
  type Bucket,
  decideOpen,
  type RelayLimits,
  type RelayOptions,
  resolveRelayLimits,
  takeTokens,
} from "./relay_policy.ts";

/** The subsystem a relayed channel is opened as; the token pairs the two sides. */
const CHANNEL = new RegExp(`^${RELAY_SUBSYSTEM_PREFIX}([0-9a-f]{32})$`);
/** How long the relay holds one side of a splice waiting for the other. */
const PAIR_TIMEOUT_MS = 15_000;
/**
 * How long after the first session the first reachability check runs. Not at
 * once: contacts that learn our new record dial us within about this long
 * (the cascade), and such a session from outside our networks answers the
 * question without the dial-back's extra SSH handshake. A node behind NAT
 * gets no such session and names its relays this much later.
 */
const FIRST_CHECK_DELAY_MS = 2000;
/** After every checker was busy: try again after this long, plus up to as much again (jitter). */
const BUSY_RETRY_MS = 2000;
/**
 * How long a dial-back may take. Long, because a busy checker that times out
 * would make a reachable node think it is not (it would then name relays
 * that nobody needs, which costs nothing but a record); a dial-back to a NAT
 * that drops the packets takes all of it, in the background.
 */
export const DIAL_BACK_TIMEOUT_MS = 8000;
/** Relayed sessions this node, as a target, sets up at once; more offers are refused. */
const MAX_OFFERS = 8;
/** Dial-backs this node runs for others at once. */
const MAX_DIAL_BACKS = 4;

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
  now(): number;
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

interface Pending {
  readonly a: Uint8Array;
  readonly b: Uint8Array;
  readonly streams: { a?: Duplex; b?: Duplex };
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Bytes that passed a splice, for tests and the relay's own accounting. */
export type RelayTap = (from: Uint8Array, chunk: Uint8Array) => void;

export class Relay {
  readonly #host: RelayHost;
  readonly #store: Store;
  #limits: RelayLimits = resolveRelayLimits();
  #recheckMs = 300_000;
  #upgradeMs = 60_000;
  /** Relays named in contacts' records, by contact hex. */
  readonly #relaysOf = new Map<string, Uint8Array[]>();
  readonly #pending = new Map<string, Pending>();
  /** Relayed sessions (live or being set up) per member hex, on this relay. */
  readonly #count = new Map<string, number>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #splices = new Set<() => void>();
  readonly #taps = new Set<RelayTap>();
  /** Direct SSH connections we opened to relays (ours as the client), by peer hex. */
  readonly #clients = new Map<string, SshClient>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #upgrading = new Set<string>();
  #dialBacks = 0;
  #offers = 0;
  #reachable: boolean | undefined;
  #lastCheck = 0;
  #checking: Promise<void> | null = null;
  /** Sessions already logged as no checker (on our own networks), so each is said once. */
  readonly #ignored = new WeakSet<RpcSession>();
  #firstCheck: ReturnType<typeof setTimeout> | undefined;
  #interval: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /** Bytes spliced since start, both directions. */
  bytesRelayed = 0;
  /** Splices made since start. */
  splices = 0;

  private constructor(host: RelayHost, store: Store) {
    this.#host = host;
    this.#store = store;
  }

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
    this.#buckets.delete(k);
    await Promise.all(writes);
  }

  /** Applies the limits and starts the timers (node start). */
  start(options: RelayOptions = {}, timing: RelayTiming = {}): void {
    this.#limits = resolveRelayLimits(options);
    this.#recheckMs = timing.recheckMs ?? this.#recheckMs;
    this.#upgradeMs = timing.upgradeMs ?? this.#upgradeMs;
    if (this.#host.passive) return;
    const tick = Math.max(50, Math.min(this.#upgradeMs, this.#recheckMs));
    this.#interval = setInterval(() => this.#tick(), tick);
  }

  /** Whether this node relays for its contacts (the "relay" hello feature). */
  get enabled(): boolean {
    return this.#limits.enabled;
  }

  /** Whether peers could dial this node, as far as it knows (undefined: not checked yet). */
  get reachable(): boolean | undefined {
    return this.#reachable;
  }

  /** Relayed sessions live or being set up here. */
  get active(): number {
    return this.#splices.size + this.#pending.size;
  }

  /** Test and accounting hook: sees every chunk a splice forwards. Returns an unsubscribe. */
  tap(listener: RelayTap): () => void {
    this.#taps.add(listener);
    return () => this.#taps.delete(listener);
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

  // ---- as the relay ---------------------------------------------------------

  #sessionsOf(k: string): number {
    return this.#count.get(k) ?? 0;
  }

  #reserve(a: Uint8Array, b: Uint8Array, delta: number): void {
    for (const k of [toHex(a), toHex(b)]) {
      const n = this.#sessionsOf(k) + delta;
      if (n <= 0) this.#count.delete(k);
      else this.#count.set(k, n);
    }
  }

  async #open(asker: Uint8Array, p: unknown): Promise<{ token: string }> {
    const params = check("relay.open", "params", p);
    const to = decodeB64(params.to);
    if (to.length !== 32) throw new RojError("bad_input", "relay.open: `to` is not a key");
    const target = this.#host.session(to);
    const d = decideOpen(this.#limits, {
      self: bytesEqual(to, asker),
      targetKnown: this.#host.accepts(to) && this.#host.accepts(asker),
      targetConnected: target !== undefined && !target.rpc.closed,
      targetRelayed: target?.via !== undefined,
      askerSessions: this.#sessionsOf(toHex(asker)),
      targetSessions: this.#sessionsOf(toHex(to)),
    });
    const who = `${this.#host.nameOf(asker)} → ${this.#host.nameOf(to)}`;
    if (!d.ok) {
      this.#host.log(`refused to relay ${who}: ${d.reason}`);
      throw new RojError(d.code, d.reason);
    }
    const token = toHex(crypto.getRandomValues(new Uint8Array(16)));
    this.#reserve(asker, to, +1);
    const pending: Pending = {
      a: asker,
      b: to,
      streams: {},
      timer: setTimeout(
        () => this.#drop(token, "the other side did not open its channel"),
        PAIR_TIMEOUT_MS,
      ),
    };
    this.#pending.set(token, pending);
    try {
      check(
        "relay.offer",
        "result",
        await target!.rpc.request("relay.offer", { from: encodeB64(asker), token }, 10_000),
      );
    } catch (err) {
      this.#drop(token);
      const why = (err as Error).message;
      this.#host.log(`refused to relay ${who}: the target refused: ${why}`);
      throw new RojError(
        isRojError(err, "timeout") ? "busy" : "refused",
        `the target refused: ${why}`,
      );
    }
    return { token };
  }

  /** Forgets a pending splice and whatever side of it arrived. */
  #drop(token: string, why?: string): void {
    const p = this.#pending.get(token);
    if (!p) return;
    this.#pending.delete(token);
    clearTimeout(p.timer);
    this.#reserve(p.a, p.b, -1);
    p.streams.a?.destroy();
    p.streams.b?.destroy();
    if (why) this.#host.log(`dropped a relayed session being set up: ${why}`);
  }

  /** A peer opened a subsystem other than roj on its SSH connection to us; true takes it. */
  onChannel(peer: InboundPeer, subsystem: string, accept: () => Duplex): boolean {
    const m = CHANNEL.exec(subsystem);
    // Checked by key, not user name: a session that began with an invite stays on its connection.
    if (!m || peer.via !== undefined || !this.#host.accepts(peer.publicKey)) return false;
    const token = m[1]!;
    const p = this.#pending.get(token);
    if (!p) return false;
    const side = bytesEqual(peer.publicKey, p.a)
      ? "a"
      : bytesEqual(peer.publicKey, p.b)
      ? "b"
      : null;
    if (!side || p.streams[side]) return false;
    p.streams[side] = accept();
    const { a, b } = p.streams;
    if (a && b) {
      this.#pending.delete(token);
      clearTimeout(p.timer);
      this.#splice(p, a, b);
    }
    return true;
  }

  #limiter(from: Uint8Array, account: { bytes: number }): Transform {
    const k = toHex(from);
    const rate = this.#limits.bytesPerSecondPerMember;
    return new Transform({
      transform: (chunk: Uint8Array, _enc, done) => {
        account.bytes += chunk.length;
        this.bytesRelayed += chunk.length;
        for (const t of this.#taps) {
          try {
            t(from, chunk);
          } catch { /* a tap's failure is its own */ }
        }
        const now = this.#host.now();
        const { bucket, waitMs } = takeTokens(
          this.#buckets.get(k) ?? { tokens: rate, at: now },
          chunk.length,
          now,
          rate,
        );
        this.#buckets.set(k, bucket);
        if (waitMs <= 0) return done(null, chunk);
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          done(null, chunk);
        }, waitMs);
        this.#timers.add(timer);
      },
    });
  }

  #splice(p: Pending, a: Duplex, b: Duplex): void {
    const who = `${this.#host.nameOf(p.a)} → ${this.#host.nameOf(p.b)}`;
    const account = { bytes: 0 };
    const up = this.#limiter(p.a, account);
    const down = this.#limiter(p.b, account);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.#splices.delete(close);
      this.#reserve(p.a, p.b, -1);
      for (const s of [a, b, up, down]) s.destroy();
      this.#host.log(`relayed session ${who} ended (${account.bytes} bytes)`);
    };
    this.#splices.add(close);
    this.splices++;
    for (const s of [a, b, up, down]) {
      s.on("close", close);
      s.on("error", close);
    }
    a.pipe(up).pipe(b);
    b.pipe(down).pipe(a);
    this.#host.log(`relaying ${who}`);
  }

  // ---- as the target --------------------------------------------------------

  async #offered(relay: Uint8Array, p: unknown): Promise<Record<string, never>> {
    const params = check("relay.offer", "params", p);
    const from = decodeB64(params.from);
    if (this.#host.passive) {
      throw new RojError("refused", "a passive anchor takes no relayed sessions");
    }
    if (from.length !== 32 || !this.#host.accepts(from)) {
      throw new RojError("refused", "the target does not accept relayed sessions from your key");
    }
    if (this.#offers >= MAX_OFFERS) {
      throw new RojError("busy", "the target is setting up too many relayed sessions at once");
    }
    const via = this.#host.nameOf(relay);
    this.#offers++;
    let stream: Duplex;
    try {
      const client = await this.#clientTo(relay);
      stream = await client.openStream(`${RELAY_SUBSYSTEM_PREFIX}${params.token}`);
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
      const s = this.#host.session(relay);
      if (!s || s.via !== undefined || bytesEqual(relay, this.#host.self)) continue;
      const name = this.#host.nameOf(relay);
      try {
        const res = check(
          "relay.open",
          "result",
          await s.rpc.request("relay.open", { to: encodeB64(peer) }, 15_000),
        );
        const client = await this.#clientTo(relay);
        const stream = await client.openStream(`${RELAY_SUBSYSTEM_PREFIX}${res.token}`);
        if (await this.#host.dialOver(stream, peer, name)) return true;
      } catch (err) {
        this.#host.log(
          `cannot reach ${this.#host.nameOf(peer)} via ${name}: ${(err as Error).message}`,
        );
      }
    }
    return this.#host.session(peer) !== undefined;
  }

  // ---- reachability ---------------------------------------------------------

  /** Keys to name in our record: none while reachable; else relaying peers we dialled, anchors first. */
  relays(): Uint8Array[] {
    if (this.#reachable !== false) return [];
    return this.#host.sessions()
      .filter((s) =>
        s.via === undefined && s.direction === "out" && !s.rpc.closed &&
        (s.rpc.peerHello?.features.includes(RELAY_FEATURE) ?? false)
      )
      .sort((x, y) => Number(y.anchor) - Number(x.anchor))
      .slice(0, 4)
      .map((s) => s.peer);
  }

  /**
   * A session came up. A direct TCP session that a peer outside our networks
   * dialled is itself the evidence a dial-back would give: we are reachable,
   * and no dial-back is asked for. Else check reachability if due; a new
   * relay is worth naming.
   */
  onSession(s: RelayPeerSession): void {
    if (this.#host.passive || s.via !== undefined || this.#closed) return;
    const now = this.#host.now();
    if (inboundEvidence({ ...observe(s), direction: s.direction }, this.#host.localNetworks()).ok) {
      this.#lastCheck = now;
      this.#conclude(true, `${this.#host.nameOf(s.peer)} dialled us from outside our networks`);
      return;
    }
    if (this.#reachable === undefined) {
      // A moment after the first session, so that a second peer can check too
      // (or dial us, which answers the question without a dial-back).
      if (this.#firstCheck !== undefined || this.#checking) return;
      this.#checkIn(FIRST_CHECK_DELAY_MS);
    } else if (now - this.#lastCheck > this.#recheckMs) {
      this.checkReachability().catch(() => {});
    } else if (this.#reachable === false && s.rpc.peerHello?.features.includes(RELAY_FEATURE)) {
      this.#host.republish("a relay came up");
    }
  }

  /** Runs a check after `ms` (until then, sessions that come up schedule none). */
  #checkIn(ms: number): void {
    clearTimeout(this.#firstCheck);
    this.#firstCheck = setTimeout(() => {
      this.#firstCheck = undefined;
      this.checkReachability().catch(() => {});
    }, ms);
  }

  /**
   * Asks up to two peers outside our own networks (node/reach) that we reach
   * directly to dial us back at the published addresses they see us at.
   * Reachable when one gets through; unreachable when they tried and none did
   * (with two sessions up, both must fail); unchanged when nobody could try.
   * A live session that a peer outside dialled to us answers it without asking.
   */
  checkReachability(): Promise<void> {
    if (this.#checking) return this.#checking;
    this.#checking = this.#check().finally(() => (this.#checking = null));
    return this.#checking;
  }

  async #check(): Promise<void> {
    const networks = this.#host.localNetworks();
    const live = this.#host.sessions().filter((s) => s.via === undefined && !s.rpc.closed);
    const dialledUs = live.find((s) =>
      inboundEvidence({ ...observe(s), direction: s.direction }, networks).ok
    );
    if (dialledUs) {
      this.#lastCheck = this.#host.now();
      this.#conclude(
        true,
        `${this.#host.nameOf(dialledUs.peer)} dialled us from outside our networks`,
      );
      return;
    }
    const checkers: RelayPeerSession[] = [];
    for (const s of live) {
      const outside = outsidePeer(observe(s), networks);
      if (outside.ok) checkers.push(s);
      else if (!this.#ignored.has(s.rpc)) {
        // Once per session: a LAN neighbour's dial-back would get through where the outside's does not.
        this.#ignored.add(s.rpc);
        this.#host.log(
          `not asking ${this.#host.nameOf(s.peer)} to dial us back: ${outside.reason}`,
        );
      }
    }
    let tried = false;
    let reached = false;
    let busy = false;
    for (const s of checkers.slice(0, 2)) {
      let seen: string;
      try {
        // An older peer on a dual-stack socket may report us as ::ffff:a.b.c.d.
        seen = unmapIPv4(parseEndpoint(s.rpc.peerHello?.sees ?? "").host);
      } catch {
        continue;
      }
      // Only the address the checker sees us at: nobody learns an address from a check.
      // Behind NAT that is the router's: try our port there (a port forward would answer).
      const published = this.#host.addresses();
      let candidates = published.filter((a) => hostOf(a) === seen);
      const port = published[0] ? portOf(published[0]) : undefined;
      if (candidates.length === 0 && port) candidates = [formatEndpoint({ host: seen, port })];
      for (const address of candidates) {
        try {
          const res = check(
            "reach.check",
            "result",
            await s.rpc.request("reach.check", { address }, DIAL_BACK_TIMEOUT_MS + 4000),
          );
          tried = true;
          if (res.reached) reached = true;
        } catch (err) {
          // An older peer, or busy: no answer either way.
          if (isRojError(err, "busy") || isRojError(err, "timeout")) busy = true;
        }
        if (reached) break;
      }
      if (reached) break;
    }
    if (this.#closed) return;
    if (!tried) {
      // Checkers busy (an anchor after a whole hive moved): again soon, by when
      // a contact may have dialled us, which needs no dial-back. With no checker
      // at all, the next session that comes up schedules the check.
      if (busy && this.#reachable === undefined) {
        this.#checkIn(BUSY_RETRY_MS + Math.random() * BUSY_RETRY_MS);
      }
      return;
    }
    this.#lastCheck = this.#host.now();
    this.#conclude(reached, reached ? "a peer dialled us back" : "dial-back failed");
  }

  /** Records what a check or an inbound session showed; says so and republishes when it changed. */
  #conclude(reached: boolean, why: string): void {
    if (this.#closed || this.#reachable === reached) return;
    this.#reachable = reached;
    this.#host.log(
      reached
        ? `reachable from outside (${why})`
        : `not reachable from outside (${why}); peers that relay will be named in our record`,
    );
    this.#host.republish(reached ? "reachable from outside" : "not reachable from outside");
  }

  async #dialBack(asker: Uint8Array, rpc: RpcSession, p: unknown): Promise<{ reached: boolean }> {
    const params = check("reach.check", "params", p);
    const to = unmapEndpoint(parseEndpoint(params.address));
    let seen: string;
    try {
      seen = unmapIPv4(parseEndpoint(rpc.pipe.remote).host);
    } catch (err) {
      throw new RojError("refused", "no dial-back through a relay", { cause: err });
    }
    if (to.host !== seen) {
      throw new RojError("refused", "only the address this node sees you at is dialled back");
    }
    if (this.#dialBacks >= MAX_DIAL_BACKS) {
      throw new RojError("busy", "too many dial-backs at once");
    }
    this.#dialBacks++;
    try {
      const reached = await this.#host.dialBack(to, asker);
      this.#host.log(
        `dialled ${this.#host.nameOf(asker)} back at ${formatEndpoint(to)}: ${
          reached ? "reached" : "not reached"
        }`,
      );
      return { reached };
    } finally {
      this.#dialBacks--;
    }
  }

  // ---- moving to a direct path ------------------------------------------------

  #upgrade(peer: Uint8Array): void {
    const k = toHex(peer);
    if (this.#closed || this.#upgrading.has(k)) return;
    this.#upgrading.add(k);
    this.#host.dialDirect(peer).then((ok) => {
      if (ok) this.#host.log(`moved ${this.#host.nameOf(peer)} to a direct path`);
    }).catch(() => {}).finally(() => this.#upgrading.delete(k));
  }

  #lastUpgrade = 0;
  #tick(): void {
    const now = this.#host.now();
    if (now - this.#lastUpgrade >= this.#upgradeMs) {
      this.#lastUpgrade = now;
      for (const s of this.#host.sessions()) if (s.via !== undefined) this.#upgrade(s.peer);
    }
    if (this.#lastCheck > 0 && now - this.#lastCheck >= this.#recheckMs) {
      this.#lastCheck = now;
      this.checkReachability().catch(() => {});
    }
  }

  /** Serves relay.open, relay.offer and reach.check on a session with `peer`. */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    rpc.handle("relay.open", (p) => this.#open(peer, p));
    rpc.handle("relay.offer", (p) => this.#offered(peer, p));
    rpc.handle("reach.check", (p) => this.#dialBack(peer, rpc, p));
  }

  close(): void {
    this.#closed = true;
    if (this.#interval) clearInterval(this.#interval);
    clearTimeout(this.#firstCheck);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const token of [...this.#pending.keys()]) this.#drop(token);
    for (const close of [...this.#splices]) close();
  }
}

/** A session as reachability (node/reach) sees it. */
function observe(s: RelayPeerSession): Observation {
  const host = (text: string | undefined) => {
    try {
      return parseEndpoint(text ?? "").host;
    } catch {
      return undefined;
    }
  };
  const remoteHost = s.via === undefined ? host(s.remote) : undefined;
  const seesHost = host(s.rpc.peerHello?.sees);
  return {
    path: s.via !== undefined ? "relayed" : s.path ?? "direct",
    ...(remoteHost !== undefined ? { remoteHost } : {}),
    ...(seesHost !== undefined ? { seesHost } : {}),
  };
}

/** The key a map of this file holds as hex (toHex), back as bytes. */
function fromHexKey(hex: string): Uint8Array | undefined {
  if (!/^[0-9a-f]{64}$/.test(hex)) return undefined;
  return Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
}

function portOf(address: string): number | undefined {
  try {
    return parseEndpoint(address).port;
  } catch {
    return undefined;
  }
}

function hostOf(address: string): string | undefined {
  try {
    return parseEndpoint(address).host;
  } catch {
    return undefined;
  }
}
