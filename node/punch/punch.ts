/**
 * UDP hole punching, coordinated through a peer both sides already reach
 * (DESIGN.md "Behind NAT"; issue 6).
 *
 *   A (asker)                      C (coordinator)                    B (target)
 *   punch.probe ───────────────────▶ nonce, cert, UDP port
 *   QUIC probe from A's endpoint ──▶ sees A's public UDP endpoint ea
 *   punch.ask {B, nonce, certA, vouchA} ▶ punch.offer {A, ea, certA, nonce', vouchA} ▶
 *                                   ◀── QUIC probe from B's endpoint: eb
 *                                                           B sends QUIC towards ea (opens B's NAT)
 *                                   ◀──────────────────────────── {certB}
 *   ◀─────────────────── {eb, certB}
 *   QUIC from A's endpoint to eb, SSH inside (B's host key checked, A authenticated as usual)
 *
 * Every node has one UDP endpoint (transport/quic.ts) that it both listens and
 * dials on, so the mapping C observed is the one the punched connection uses.
 * Behind a NAT that maps each destination to a new port (symmetric NAT), eb is
 * not where A's packets would have to go and the attempt would time out. A
 * node finds that out beforehand: every probe's answer is where that
 * coordinator saw our endpoint, and once two coordinators at different
 * endpoints have answered (the node probes two as soon as it has them), two
 * different ports there mean a symmetric NAT (node/reach). Such a node neither
 * punches nor takes punch offers, says why, and its contacts come through a
 * relay at once.
 *
 * A vouches for ea (vouch.ts: signed, for C and B, for 5 minutes), and B
 * sends nothing towards an endpoint A did not vouch for, nor to one C cannot
 * have seen from where B sees C, and takes only so many offers a minute
 * (offer_policy.ts): a contact acting as C cannot aim B's packets.
 *
 * Privacy: C learns that A and B talk and both public endpoints (it sees them
 * anyway); A learns B's endpoint only if B accepts A as a contact; "B is not
 * connected here" and "B refused" look the same to A. Observations are bound
 * to the authenticated session that asked for the nonce.
 *
 * The parts: coordinator.ts (the coordinator's side), probe.ts (sending a
 * probe), nat_observer.ts (our NAT's verdict), punch_schedule.ts (when
 * unreached contacts are tried, pure), offer_policy.ts (which offers a
 * target takes, pure), vouch.ts (the asker's signature), and this file: the
 * asker's and the target's side. Every timer runs on the host's clock.
 */
import { type Clock, systemClock, type TimerId } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import { toHex } from "../log/mod.ts";
import { decodeB64, encodeB64, type ParamsOf, type RpcSession } from "../protocol/mod.ts";
import type { NatMapping } from "../reach/mod.ts";
import {
  ALPN_PROBE,
  dialQuicSocket,
  type Endpoint,
  formatEndpoint,
  type QuicService,
  type SocketLike,
} from "../transport/mod.ts";
import { Coordinator } from "./coordinator.ts";
import { MAPPING_TTL_MS, NatObserver } from "./nat_observer.ts";
import { PROBE_MS, sendProbe } from "./probe.ts";
import {
  attemptCode,
  canCoordinate,
  type PunchAttemptCode,
  type PunchEnv,
  type PunchFailure,
  type PunchHost,
  type PunchResult,
  type PunchSession,
  type PunchStage,
} from "./punch_host.ts";
import {
  afterPunch,
  planRound,
  type PunchScheduleOptions,
  resolveSchedule,
  type RetryEntry,
} from "./punch_schedule.ts";
import { hostOf, parseUdpEndpoint } from "./udp_endpoint.ts";
import { decideOffer, plausibleObservation, recordOffer, type TakenOffer } from "./offer_policy.ts";
import { checkVouch, signVouch, VOUCH_TTL_MS } from "./vouch.ts";

export { PUNCH_FEATURE } from "./punch_host.ts";

/** How long the asker's QUIC handshake to the target may take (Initial retransmits after ~1 s). */
const PUNCH_DIAL_MS = 4000;
/** Offers handled at once by a target; more are refused (each makes us send packets somewhere). */
const MAX_OFFERS = 4;

/** One coordinator's failed attempt. */
interface Attempt {
  readonly via: Uint8Array;
  readonly code: PunchAttemptCode;
}

/** When automatic punches run. @see PunchScheduleOptions */
export type PuncherOptions = PunchScheduleOptions;

export class Puncher {
  readonly #host: PunchHost;
  readonly #env: PunchEnv;
  readonly #options: Required<PuncherOptions>;
  readonly #coordinator: Coordinator;
  readonly #nat: NatObserver;
  /** Punches in flight, by peer hex; a second punch to the same peer joins the first. */
  readonly #inFlight = new Map<string, Promise<PunchResult>>();
  /** Automatic retries: when each unreached contact may be tried next, and how often it failed. */
  #retry = new Map<string, RetryEntry>();
  #offers = 0;
  /** Offers taken lately, for the rate limits (offer_policy.ts). */
  #taken: TakenOffer[] = [];
  /** The refusal last logged per asker and coordinator: a repeated one is logged once. */
  readonly #refusals = new Map<string, string>();
  #timer: TimerId | undefined;
  #closed = false;
  /** When each session was last probed to learn our NAT's mapping. */
  readonly #mappingProbed = new WeakMap<RpcSession, number>();
  #mappingRun: Promise<void> | null = null;

  constructor(host: PunchHost, options: PuncherOptions = {}) {
    this.#host = host;
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
    this.#options = resolveSchedule(options);
    this.#coordinator = new Coordinator(this.#env);
    this.#nat = new NatObserver((line) => host.log(line), (n) => this.#env.note(n));
  }

  /** Starts looking for unreached contacts to punch to. */
  start(): void {
    if (this.#options.intervalMs > 0 && !this.#timer) {
      this.#timer = this.#env.clock.setInterval(() => this.kick(), this.#options.intervalMs);
    }
  }

  close(): void {
    this.#closed = true;
    this.#env.clock.clearInterval(this.#timer);
  }

  /** What coordinators' views of our UDP endpoint say about our NAT (node/reach). */
  get mapping(): NatMapping {
    return this.#nat.mapping(this.#env.now());
  }

  /** The reason the last automatic punch to `peer` failed, while it is unreached. */
  lastFailure(peer: Uint8Array): string | undefined {
    return this.#retry.get(toHex(peer))?.reason;
  }

  /**
   * Tries the unreached contacts that are due. The contact with the smaller
   * key goes first; the other waits a round, so both sides do not punch at once.
   */
  kick(): void {
    if (this.#closed || !this.#host.quic()) return;
    const coordinators = this.#host.sessions().filter(canCoordinate).length;
    if (coordinators === 0) return;
    // One coordinator's view tells nothing: probe only when two can be compared.
    if (coordinators >= 2 && this.mapping.kind === "unknown") this.checkMapping().catch(() => {});
    // Behind a symmetric NAT no punch can work: contacts come through relays.
    if (this.#nat.current.kind === "symmetric") return;
    const unreached = new Map(this.#host.unreached().map((peer) => [toHex(peer), peer]));
    const round = planRound(
      this.#retry,
      [...unreached.keys()],
      toHex(this.#host.publicKey),
      this.#env.now(),
      new Set(this.#inFlight.keys()),
      this.#options,
    );
    this.#retry = round.retries;
    for (const k of round.due) {
      this.punch(unreached.get(k)!).then((res) => {
        const cur = this.#retry.get(k);
        if (!cur) return;
        const next = afterPunch(cur, res, this.#env.now(), this.#options, () => {
          return this.#env.clock.random();
        });
        if (next) this.#retry.set(k, next);
        else this.#retry.delete(k);
      });
    }
  }

  /**
   * Punches a QUIC path to contact `peer` through each session that can
   * coordinate, until one works. Never throws: a failure says why.
   */
  punch(peer: Uint8Array): Promise<PunchResult> {
    const k = toHex(peer);
    const running = this.#inFlight.get(k);
    if (running) return running;
    const run = this.#punch(peer).catch((err): PunchResult =>
      this.#failed(peer, "error", (err as Error).message, [])
    ).finally(() => this.#inFlight.delete(k));
    this.#inFlight.set(k, run);
    return run;
  }

  async #punch(peer: Uint8Array): Promise<PunchResult> {
    const quic = this.#host.quic();
    const name = this.#host.name(peer);
    if (!quic) return this.#failed(peer, "no-udp", "this node has no UDP endpoint", []);
    const coordinators = this.#host.sessions().filter((s) =>
      toHex(s.peer) !== toHex(peer) && canCoordinate(s)
    );
    if (coordinators.length === 0) {
      return this.#failed(peer, "no-coordinator", "no connected peer can coordinate a punch", []);
    }
    // Two coordinators can tell a symmetric NAT before a punch waits for nothing.
    if (
      this.mapping.kind === "unknown" &&
      this.#host.sessions().filter(canCoordinate).length >= 2
    ) {
      await this.checkMapping();
    }
    const mapping = this.#nat.current;
    if (mapping.kind === "symmetric") {
      const reason = `behind a symmetric NAT (${mapping.reason}): no punch, a relay is the way`;
      this.#host.log(`not punching to ${name}: ${reason}`);
      return this.#failed(peer, "symmetric-nat", reason, []);
    }
    const reasons: string[] = [];
    const attempts: Attempt[] = [];
    for (const c of coordinators) {
      if (this.#closed) break;
      if (this.#host.sessions().some((s) => toHex(s.peer) === toHex(peer))) {
        return this.#failed(peer, "connected", `${name} is connected already`, attempts);
      }
      const via = this.#host.name(c.peer);
      const stage: { at: PunchStage } = { at: "ask-probe" };
      try {
        const endpoint = await this.#punchVia(quic, c, peer, stage);
        this.#host.log(`punched a UDP path to ${name} at ${endpoint}, coordinated by ${via}`);
        this.#env.note({ type: "punched", peer, via: c.peer, endpoint });
        return { ok: true, via, endpoint };
      } catch (err) {
        reasons.push(`via ${via}: ${(err as Error).message}`);
        const code = attemptCode(stage.at, err);
        attempts.push({ via: c.peer, code });
        // No other coordinator changes the target's NAT.
        if (code === "target-symmetric-nat") break;
      }
    }
    const reason = reasons.join("; ");
    this.#host.log(`cannot punch to ${name}: ${reason}`);
    return this.#failed(peer, "coordinators-failed", reason, attempts);
  }

  /** A failed punch: told as a note, returned with its coordinators named. */
  #failed(
    peer: Uint8Array,
    code: PunchFailure,
    reason: string,
    attempts: readonly Attempt[],
  ): PunchResult {
    this.#env.note({ type: "punch-failed", peer, code, attempts });
    return {
      ok: false,
      code,
      reason,
      attempts: attempts.map((a) => ({ via: this.#host.name(a.via), code: a.code })),
    };
  }

  /** Sends a probe to the coordinator at `observer`, notes where it saw us and returns it. */
  async #probe(
    quic: QuicService,
    observer: Endpoint,
    cert: string,
    nonce: string,
  ): Promise<string> {
    const seen = await sendProbe(
      quic,
      observer,
      decodeB64(cert),
      decodeB64(nonce),
      this.#env.clock,
    );
    this.#nat.note(observer, seen, this.#env.now());
    return seen;
  }

  /** One coordinator's attempt; `stage.at` says how far it got when it throws. */
  async #punchVia(
    quic: QuicService,
    c: PunchSession,
    peer: Uint8Array,
    stage: { at: PunchStage },
  ): Promise<string> {
    const probe = await c.rpc.request("punch.probe", {});
    const observer = { host: hostOf(c.remote), port: probe.port };
    stage.at = "probe";
    const seen = await this.#probe(quic, observer, probe.cert, probe.nonce).catch((err) => {
      throw new RojError("unreachable", `probe failed: ${(err as Error).message}`);
    });
    // We vouch for where the coordinator saw us, for this coordinator and target only;
    // never for an address it cannot have seen us at.
    let mine: Endpoint;
    try {
      mine = parseUdpEndpoint(seen);
    } catch {
      throw new RojError("unreachable", "probe failed: the coordinator's answer is no ip:port");
    }
    if (!plausibleObservation(observer.host, mine.host)) {
      throw new RojError("unreachable", "probe failed: the coordinator cannot have seen us there");
    }
    const expires = this.#env.now() + VOUCH_TTL_MS;
    const sig = await signVouch(this.#host.signer, {
      coordinator: c.peer,
      target: peer,
      endpoint: formatEndpoint(mine),
      cert: quic.certHash,
      expires,
    });
    stage.at = "ask";
    const answer = await c.rpc.request(
      "punch.ask",
      {
        peer: encodeB64(peer),
        nonce: probe.nonce,
        cert: encodeB64(quic.certHash),
        vouch: { sig: encodeB64(sig), expires },
      },
      3 * PROBE_MS + 2000,
    );
    const to = parseUdpEndpoint(answer.endpoint);
    stage.at = "dial";
    let socket: SocketLike;
    try {
      socket = await dialQuicSocket(quic, to, decodeB64(answer.cert), PUNCH_DIAL_MS);
    } catch (err) {
      throw new RojError(
        "unreachable",
        `${(err as Error).message} (a NAT on the way may map each destination to a new port)`,
        { retryable: true },
      );
    }
    stage.at = "attach";
    if (!await this.#host.attach(peer, socket, to)) {
      throw new RojError("exists", "a session with them was already up");
    }
    return formatEndpoint(to);
  }

  /** Registers the coordinator and target methods on a session with a contact. */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    this.#coordinator.serve(rpc, peer);
    rpc.handle("punch.offer", (p) => this.#offer(rpc, peer, p));
  }

  /**
   * As the target: takes the offer only for an endpoint the coordinator saw
   * the asker at and the asker vouched for (offer_policy.ts), then probes the
   * coordinator and opens our NAT towards the asker.
   */
  async #offer(rpc: RpcSession, peer: Uint8Array, params: ParamsOf<"punch.offer">) {
    const host = this.#host;
    const quic = host.quic();
    const asker = decodeB64(params.peer);
    if (!quic || !host.accepted(asker)) throw new RojError("refused", "no");
    const to = parseUdpEndpoint(params.endpoint);
    const endpoint = formatEndpoint(to);
    const vouch = params.vouch;
    const vouched = vouch !== undefined && await checkVouch(decodeB64(vouch.sig), {
      asker,
      coordinator: peer,
      target: host.publicKey,
      endpoint,
      cert: decodeB64(params.cert),
      expires: vouch.expires,
    });
    const now = this.#env.now();
    const facts = {
      asker: toHex(asker),
      coordinator: toHex(peer),
      endpoint,
      endpointHost: to.host,
      coordinatorHost: hostOf(rpc.pipe.remote),
      connected: host.sessions().some((s) => toHex(s.peer) === toHex(asker)),
      symmetric: this.mapping.kind === "symmetric",
      vouch: vouched ? { valid: true as const, expires: vouch.expires } : {
        valid: false as const,
        present: vouch !== undefined,
      },
      inFlight: this.#offers,
      maxInFlight: MAX_OFFERS,
    };
    const d = decideOffer(facts, this.#taken, now);
    if (!d.ok) {
      this.#env.note({ type: "offer", from: asker, via: peer, accepted: false, code: d.code });
      if (d.code === "connected") throw new RojError("exists", d.reason);
      if (d.code === "symmetric-nat") {
        // Told only to a contact (checked above): our packets would leave from a port the asker cannot know.
        this.#logRefusal(asker, peer, "we are behind a symmetric NAT");
        throw new RojError("refused", d.reason);
      }
      if (d.code === "busy" || d.code === "rate-limited") throw new RojError("busy", d.reason);
      this.#logRefusal(asker, peer, d.reason);
      throw new RojError("refused", d.reason);
    }
    this.#refusals.delete(toHex(asker) + toHex(peer));
    this.#taken = recordOffer(this.#taken, {
      asker: facts.asker,
      coordinator: facts.coordinator,
      endpoint,
      at: now,
    });
    this.#offers++;
    try {
      const observer = { host: hostOf(rpc.pipe.remote), port: params.port };
      await this.#probe(quic, observer, params.probeCert, params.nonce);
    } finally {
      this.#offers--;
    }
    // Opens our NAT towards the asker: its connection then finds the way in.
    // The packets of this one are dropped by the asker's NAT, or make a
    // connection nobody uses; either way it is closed at once.
    quic.connect(to, decodeB64(params.cert), ALPN_PROBE, PUNCH_DIAL_MS).then(
      (c) => c.close({ closeCode: 0, reason: "opened" }),
      () => {},
    );
    host.log(`${host.name(asker)} (${endpoint}) asks for a punched path, via ${host.name(peer)}`);
    this.#env.note({ type: "offer", from: asker, via: peer, accepted: true, endpoint });
    return { cert: encodeB64(quic.certHash) };
  }

  /** Logs why an offer from `asker` via `via` was refused, unless that was the last word on them. */
  #logRefusal(asker: Uint8Array, via: Uint8Array, why: string): void {
    const k = toHex(asker) + toHex(via);
    if (this.#refusals.get(k) === why) return;
    if (this.#refusals.size >= 256) this.#refusals.clear();
    this.#refusals.set(k, why);
    const host = this.#host;
    host.log(`${host.name(asker)} asks for a punched path, via ${host.name(via)}: refused, ${why}`);
  }

  /** A probe arrived on our UDP endpoint (see Coordinator.onProbe). */
  onProbe(conn: Deno.QuicConn, stream: Deno.QuicBidirectionalStream, from: Endpoint): void {
    this.#coordinator.onProbe(conn, stream, from);
  }

  /**
   * Probes coordinators that have not answered lately, until two at different
   * endpoints have seen our UDP endpoint (or none is left): enough to tell a
   * symmetric NAT. Never throws; a coordinator that cannot be probed is skipped.
   */
  checkMapping(): Promise<void> {
    this.#mappingRun ??= this.#checkMapping().finally(() => (this.#mappingRun = null));
    return this.#mappingRun;
  }

  async #checkMapping(): Promise<void> {
    const quic = this.#host.quic();
    if (!quic) return;
    for (const c of this.#host.sessions()) {
      if (this.#closed || this.mapping.kind !== "unknown") return;
      const last = this.#mappingProbed.get(c.rpc);
      if (!canCoordinate(c) || (last && this.#env.now() - last < MAPPING_TTL_MS)) continue;
      this.#mappingProbed.set(c.rpc, this.#env.now());
      try {
        const probe = await c.rpc.request("punch.probe", {});
        const observer = { host: hostOf(c.remote), port: probe.port };
        await this.#probe(quic, observer, probe.cert, probe.nonce);
      } catch { /* an older peer, busy, or its UDP is filtered: another may answer */ }
    }
  }
}
