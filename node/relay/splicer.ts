/**
 * The relay's own role: serving relay.open for a member, asking the target
 * (relay.offer), holding each side's channel until the other arrives, and
 * splicing the two, each direction paced so that every member stays under
 * its share (relay_policy.ts). It sees only the ciphertext of the SSH
 * session the two run inside.
 */
import type { Duplex } from "node:stream";
import { Transform } from "node:stream";
import type { TimerId } from "../clock/mod.ts";
import { isRojError, RojError } from "../errors.ts";
import { toHex } from "../log/mod.ts";
import { decodeB64, encodeB64, type ParamsOf, type ResultOf } from "../protocol/mod.ts";
import type { InboundPeer } from "../transport/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { CHANNEL } from "./relay_channel.ts";
import type { RelayEnv } from "./relay_host.ts";
import {
  type Bucket,
  decideOpen,
  type RelayLimits,
  resolveRelayLimits,
  takeTokens,
} from "./relay_policy.ts";

/** How long the relay holds one side of a splice waiting for the other. */
const PAIR_TIMEOUT_MS = 15_000;

/** Bytes that passed a splice, for tests and the relay's own accounting. */
export type RelayTap = (from: Uint8Array, chunk: Uint8Array) => void;

interface Pending {
  readonly a: Uint8Array;
  readonly b: Uint8Array;
  readonly streams: { a?: Duplex; b?: Duplex };
  readonly timer: TimerId;
}

/** Splices members' channels: pending pairs, live splices, per-member counts and pacing. */
export class Splicer {
  readonly #env: RelayEnv;
  limits: RelayLimits = resolveRelayLimits();
  readonly #pending = new Map<string, Pending>();
  /** Relayed sessions (live or being set up) per member hex, on this relay. */
  readonly #count = new Map<string, number>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #splices = new Set<() => void>();
  readonly #taps = new Set<RelayTap>();
  /** Paced chunks waiting to be passed on. */
  readonly #timers = new Set<TimerId>();
  /** Bytes spliced since start, both directions. */
  bytesRelayed = 0;
  /** Splices made since start. */
  splices = 0;

  constructor(env: RelayEnv) {
    this.#env = env;
  }

  /** Relayed sessions live or being set up here. */
  get active(): number {
    return this.#splices.size + this.#pending.size;
  }

  /** Sees every chunk a splice forwards. Returns an unsubscribe. */
  tap(listener: RelayTap): () => void {
    this.#taps.add(listener);
    return () => this.#taps.delete(listener);
  }

  /** Forgets a member's pacing (a contact removed). */
  forget(k: string): void {
    this.#buckets.delete(k);
  }

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

  /** Serves relay.open from `asker`: decides, offers the target, and waits for both channels. */
  async open(asker: Uint8Array, params: ParamsOf<"relay.open">): Promise<ResultOf<"relay.open">> {
    const host = this.#env.host;
    const to = decodeB64(params.to);
    if (to.length !== 32) throw new RojError("bad_input", "relay.open: `to` is not a key");
    const target = host.session(to);
    const d = decideOpen(this.limits, {
      self: bytesEqual(to, asker),
      targetKnown: host.accepts(to) && host.accepts(asker),
      targetConnected: target !== undefined && !target.rpc.closed,
      targetRelayed: target?.via !== undefined,
      askerSessions: this.#sessionsOf(toHex(asker)),
      targetSessions: this.#sessionsOf(toHex(to)),
    });
    const who = `${host.nameOf(asker)} → ${host.nameOf(to)}`;
    if (!d.ok) {
      host.log(`refused to relay ${who}: ${d.reason}`);
      this.#env.note({ type: "splice", state: "refused", from: asker, to, code: d.code });
      throw new RojError(d.code, d.reason);
    }
    const token = toHex(crypto.getRandomValues(new Uint8Array(16)));
    this.#reserve(asker, to, +1);
    const pending: Pending = {
      a: asker,
      b: to,
      streams: {},
      timer: this.#env.clock.setTimeout(
        () => this.#drop(token, "the other side did not open its channel"),
        PAIR_TIMEOUT_MS,
      ),
    };
    this.#pending.set(token, pending);
    try {
      await target!.rpc.request("relay.offer", { from: encodeB64(asker), token }, 10_000);
    } catch (err) {
      this.#drop(token);
      const why = (err as Error).message;
      host.log(`refused to relay ${who}: the target refused: ${why}`);
      const code = isRojError(err, "timeout") ? "busy" : "refused";
      this.#env.note({ type: "splice", state: "refused", from: asker, to, code });
      throw new RojError(code, `the target refused: ${why}`);
    }
    return { token };
  }

  /** Forgets a pending splice and whatever side of it arrived. */
  #drop(token: string, why?: string): void {
    const p = this.#pending.get(token);
    if (!p) return;
    this.#pending.delete(token);
    this.#env.clock.clearTimeout(p.timer);
    this.#reserve(p.a, p.b, -1);
    p.streams.a?.destroy();
    p.streams.b?.destroy();
    if (why) this.#env.host.log(`dropped a relayed session being set up: ${why}`);
  }

  /** A peer opened a subsystem other than roj on its SSH connection to us; true takes it. */
  onChannel(peer: InboundPeer, subsystem: string, accept: () => Duplex): boolean {
    const m = CHANNEL.exec(subsystem);
    // Checked by key, not user name: a session that began with an invite stays on its connection.
    if (!m || peer.via !== undefined || !this.#env.host.accepts(peer.publicKey)) return false;
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
      this.#env.clock.clearTimeout(p.timer);
      this.#splice(p, a, b);
    }
    return true;
  }

  #limiter(from: Uint8Array, account: { bytes: number }): Transform {
    const k = toHex(from);
    const rate = this.limits.bytesPerSecondPerMember;
    const clock = this.#env.clock;
    return new Transform({
      transform: (chunk: Uint8Array, _enc, done) => {
        account.bytes += chunk.length;
        this.bytesRelayed += chunk.length;
        for (const t of this.#taps) {
          try {
            t(from, chunk);
          } catch { /* a tap's failure is its own */ }
        }
        const now = this.#env.now();
        const { bucket, waitMs } = takeTokens(
          this.#buckets.get(k) ?? { tokens: rate, at: now },
          chunk.length,
          now,
          rate,
        );
        this.#buckets.set(k, bucket);
        if (waitMs <= 0) return done(null, chunk);
        const timer = clock.setTimeout(() => {
          this.#timers.delete(timer);
          done(null, chunk);
        }, waitMs);
        this.#timers.add(timer);
      },
    });
  }

  #splice(p: Pending, a: Duplex, b: Duplex): void {
    const host = this.#env.host;
    const who = `${host.nameOf(p.a)} → ${host.nameOf(p.b)}`;
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
      host.log(`relayed session ${who} ended (${account.bytes} bytes)`);
      this.#env.note({ type: "splice", state: "ended", from: p.a, to: p.b, bytes: account.bytes });
    };
    this.#splices.add(close);
    this.splices++;
    for (const s of [a, b, up, down]) {
      s.on("close", close);
      s.on("error", close);
    }
    a.pipe(up).pipe(b);
    b.pipe(down).pipe(a);
    host.log(`relaying ${who}`);
    this.#env.note({ type: "splice", state: "up", from: p.a, to: p.b });
  }

  /** Drops what is pending and ends every splice. */
  close(): void {
    for (const t of this.#timers) this.#env.clock.clearTimeout(t);
    this.#timers.clear();
    for (const token of [...this.#pending.keys()]) this.#drop(token);
    for (const close of [...this.#splices]) close();
  }
}
