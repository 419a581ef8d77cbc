/**
 * UDP hole punching, coordinated through a peer both sides already reach
 * (DESIGN.md "Behind NAT"; issue 6).
 *
 *   A (asker)                      C (coordinator)                    B (target)
 *   punch.probe ───────────────────▶ nonce, cert, UDP port
 *   QUIC probe from A's endpoint ──▶ sees A's public UDP endpoint ea
 *   punch.ask {B, nonce, certA} ───▶ punch.offer {A, ea, certA, nonce'} ──▶
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
 * Privacy: C learns that A and B talk and both public endpoints (it sees them
 * anyway); A learns B's endpoint only if B accepts A as a contact; "B is not
 * connected here" and "B refused" look the same to A. Observations are bound
 * to the authenticated session that asked for the nonce.
 */
import { isRojError, RojError } from "../errors.ts";
import { toHex } from "../log/mod.ts";
import { check, decodeB64, encodeB64, PUNCH_FEATURE, type RpcSession } from "../protocol/mod.ts";
import { backoffDelay } from "../peers/mod.ts";
import { classifyMapping, type MappingObservation, type NatMapping } from "../reach/mod.ts";
import {
  ALPN_PROBE,
  dialQuicSocket,
  type Endpoint,
  formatEndpoint,
  type QuicService,
  type SocketLike,
  unmapEndpoint,
} from "../transport/mod.ts";

/** The hello feature of a node that can coordinate punches (defined in protocol/features.ts). */
export { PUNCH_FEATURE };
const NONCE_BYTES = 16;
/** A probe's observation is good for this long; punches follow within seconds. */
const PROBE_TTL_MS = 30_000;
const MAX_PROBES = 256;
/** Nonces one session may hold at once, so that one contact cannot take every slot. */
const MAX_PROBES_PER_SESSION = 4;
/** How long the asker's QUIC handshake to the target may take (Initial retransmits after ~1 s). */
const PUNCH_DIAL_MS = 4000;
const PROBE_MS = 3000;
/** Offers handled at once by a target; more are refused (each makes us send packets somewhere). */
const MAX_OFFERS = 4;
/**
 * How long a coordinator's view of our endpoint stands for our NAT. After
 * that the NAT is looked at again (a laptop moves to another network).
 */
const MAPPING_TTL_MS = 10 * 60_000;
/** A coordinator's answer when the target is behind a symmetric NAT. */
const SYMMETRIC_TARGET =
  "the target is behind a symmetric NAT: no punched path; a relay is the way";
/** Observers kept for the NAT verdict; two suffice, a few more cost nothing. */
const MAX_OBSERVERS = 8;

/** A live session, as punching sees it. */
export interface PunchSession {
  readonly peer: Uint8Array;
  readonly rpc: RpcSession;
  /** "host:port" of the far end of the session. */
  readonly remote: string;
}

/** The node, as punching sees it. */
export interface PunchHost {
  /** Our key: of two contacts, the smaller key punches first. */
  readonly publicKey: Uint8Array;
  now(): number;
  log(line: string): void;
  /** The node's QUIC endpoint, if it has one. */
  quic(): QuicService | undefined;
  sessions(): PunchSession[];
  /** Whether `peer` is an accepted, unblocked contact. */
  accepted(peer: Uint8Array): boolean;
  name(peer: Uint8Array): string;
  /** Contacts (not anchors) that have no session. */
  unreached(): Uint8Array[];
  /** Runs SSH over `socket` to `peer` and keeps it as a punched session; true when kept. */
  attach(peer: Uint8Array, socket: SocketLike, at: Endpoint): Promise<boolean>;
}

export type PunchResult =
  | { readonly ok: true; readonly via: string; readonly endpoint: string }
  | { readonly ok: false; readonly reason: string };

export interface PuncherOptions {
  /** How often unreached contacts are looked at. 0 turns automatic punching off. @default 2000 */
  readonly intervalMs?: number;
  /**
   * How long a contact must stay unreached before the first punch, so that a
   * direct dial that is about to succeed goes first. @default 3000
   */
  readonly graceMs?: number;
  /** First retry delay after a failed punch; doubles up to maxRetryMs. @default 5000 */
  readonly retryMs?: number;
  /** @default 120000 */
  readonly maxRetryMs?: number;
}

interface Probe {
  readonly rpc: RpcSession;
  readonly expires: number;
  seen?: Endpoint;
}

/**
 * A literal IPv4 or IPv6 endpoint: a peer's word never makes us resolve a
 * name. An IPv4-mapped IPv6 one is returned as plain IPv4.
 */
export function parseUdpEndpoint(text: string): Endpoint {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text) ??
    /^\[([0-9a-fA-F:.]{2,45})\]:(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  const octets = m && !m[1]!.includes(":") ? m[1]!.split(".").map(Number) : [];
  if (!m || port < 1 || port > 65535 || octets.some((o) => o > 255)) {
    throw new RojError("bad_input", `${JSON.stringify(text.slice(0, 64))} is not an ip:port`);
  }
  return unmapEndpoint({ host: m[1]!, port });
}

function hostOf(remote: string): string {
  const m = /^\[(.+)\]:\d+$/.exec(remote) ?? /^(.+):\d+$/.exec(remote);
  return m ? m[1]! : remote;
}

async function readAtMost(stream: ReadableStream<Uint8Array>, max: number, ms: number) {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const timer = setTimeout(() => reader.cancel().catch(() => {}), ms);
  try {
    while (size < max) {
      const { value, done } = await reader.read();
      if (done || !value) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    /* cancelled or reset: what arrived is the answer */
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  const out = new Uint8Array(Math.min(size, max));
  let at = 0;
  for (const c of chunks) {
    const part = c.subarray(0, out.length - at);
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Sends a probe from our endpoint to a coordinator: the nonce it gave us over
 * our session, so it can tie the UDP endpoint it sees to that session.
 * Returns the endpoint it reports.
 */
async function sendProbe(
  quic: QuicService,
  to: Endpoint,
  cert: Uint8Array,
  nonce: Uint8Array,
): Promise<string> {
  const conn = await quic.connect(to, cert, ALPN_PROBE, PROBE_MS);
  try {
    const stream = await conn.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(nonce);
    await writer.close();
    const answer = new TextDecoder().decode(await readAtMost(stream.readable, 64, PROBE_MS));
    if (!answer) throw new RojError("refused", `${formatEndpoint(to)} did not take our probe`);
    return answer;
  } finally {
    conn.close({ closeCode: 0, reason: "probed" });
  }
}

export class Puncher {
  readonly #host: PunchHost;
  readonly #options: Required<PuncherOptions>;
  /** Nonces handed out as a coordinator, by hex. */
  readonly #probes = new Map<string, Probe>();
  /** Punches in flight, by peer hex; a second punch to the same peer joins the first. */
  readonly #inFlight = new Map<string, Promise<PunchResult>>();
  /** Automatic retries: when each unreached contact may be tried next, and how often it failed. */
  readonly #retry = new Map<string, { at: number; failures: number; reason?: string }>();
  #offers = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /** Where coordinators saw our UDP endpoint, newest per observer endpoint, with when. */
  readonly #seen = new Map<string, MappingObservation & { readonly at: number }>();
  /** When each session was last probed to learn our NAT's mapping. */
  readonly #mappingProbed = new WeakMap<RpcSession, number>();
  #mapping: NatMapping = { kind: "unknown" };
  #mappingRun: Promise<void> | null = null;

  constructor(host: PunchHost, options: PuncherOptions = {}) {
    this.#host = host;
    this.#options = {
      intervalMs: options.intervalMs ?? 2000,
      graceMs: options.graceMs ?? 3000,
      retryMs: options.retryMs ?? 5000,
      maxRetryMs: options.maxRetryMs ?? 120_000,
    };
  }

  /** Starts looking for unreached contacts to punch to. */
  start(): void {
    if (this.#options.intervalMs > 0 && !this.#timer) {
      this.#timer = setInterval(() => this.kick(), this.#options.intervalMs);
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
  }

  /** What coordinators' views of our UDP endpoint say about our NAT (node/reach). */
  get mapping(): NatMapping {
    this.#expireSeen();
    return this.#mapping;
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
    const coordinators = this.#host.sessions().filter((s) => this.#canCoordinate(s)).length;
    if (coordinators === 0) return;
    // One coordinator's view tells nothing: probe only when two can be compared.
    if (coordinators >= 2 && this.mapping.kind === "unknown") this.checkMapping().catch(() => {});
    // Behind a symmetric NAT no punch can work: contacts come through relays.
    if (this.#mapping.kind === "symmetric") return;
    const now = this.#host.now();
    const unreached = this.#host.unreached();
    const keep = new Set(unreached.map(toHex));
    for (const k of this.#retry.keys()) if (!keep.has(k)) this.#retry.delete(k);
    for (const peer of unreached) {
      const k = toHex(peer);
      let r = this.#retry.get(k);
      if (!r) {
        const goFirst = toHex(this.#host.publicKey) < toHex(peer);
        const wait = this.#options.graceMs + (goFirst ? 0 : 2 * this.#options.intervalMs);
        r = { at: now + wait, failures: 0 };
        this.#retry.set(k, r);
      }
      if (now < r.at || this.#inFlight.has(k)) continue;
      this.punch(peer).then((res) => {
        const cur = this.#retry.get(k);
        if (!cur) return;
        if (res.ok) this.#retry.delete(k);
        else {
          cur.failures++;
          cur.reason = res.reason;
          // Behind a symmetric NAT it stays one: look again only as rarely as ever.
          cur.at = this.#host.now() +
            (res.reason.includes(SYMMETRIC_TARGET)
              ? this.#options.maxRetryMs
              : backoffDelay(cur.failures - 1, {
                initialMs: this.#options.retryMs,
                maxMs: this.#options.maxRetryMs,
              }));
        }
      });
    }
  }

  #canCoordinate(s: PunchSession): boolean {
    return !s.rpc.closed && (s.rpc.peerHello?.features.includes(PUNCH_FEATURE) ?? false);
  }

  /**
   * Punches a QUIC path to contact `peer` through each session that can
   * coordinate, until one works. Never throws: a failure says why.
   */
  punch(peer: Uint8Array): Promise<PunchResult> {
    const k = toHex(peer);
    const running = this.#inFlight.get(k);
    if (running) return running;
    const run = this.#punch(peer).catch((err): PunchResult => ({
      ok: false,
      reason: (err as Error).message,
    })).finally(() => this.#inFlight.delete(k));
    this.#inFlight.set(k, run);
    return run;
  }

  async #punch(peer: Uint8Array): Promise<PunchResult> {
    const quic = this.#host.quic();
    const name = this.#host.name(peer);
    if (!quic) return { ok: false, reason: "this node has no UDP endpoint" };
    const coordinators = this.#host.sessions().filter((s) =>
      toHex(s.peer) !== toHex(peer) && this.#canCoordinate(s)
    );
    if (coordinators.length === 0) {
      return { ok: false, reason: "no connected peer can coordinate a punch" };
    }
    // Two coordinators can tell a symmetric NAT before a punch waits for nothing.
    if (
      this.mapping.kind === "unknown" &&
      this.#host.sessions().filter((s) => this.#canCoordinate(s)).length >= 2
    ) {
      await this.checkMapping();
    }
    if (this.#mapping.kind === "symmetric") {
      const reason =
        `behind a symmetric NAT (${this.#mapping.reason}): no punch, a relay is the way`;
      this.#host.log(`not punching to ${name}: ${reason}`);
      return { ok: false, reason };
    }
    const reasons: string[] = [];
    for (const c of coordinators) {
      if (this.#closed) break;
      if (this.#host.sessions().some((s) => toHex(s.peer) === toHex(peer))) {
        return { ok: false, reason: `${name} is connected already` };
      }
      const via = this.#host.name(c.peer);
      try {
        const endpoint = await this.#punchVia(quic, c, peer);
        this.#host.log(`punched a UDP path to ${name} at ${endpoint}, coordinated by ${via}`);
        return { ok: true, via, endpoint };
      } catch (err) {
        reasons.push(`via ${via}: ${(err as Error).message}`);
        // No other coordinator changes the target's NAT.
        if ((err as Error).message === SYMMETRIC_TARGET) break;
      }
    }
    const reason = reasons.join("; ");
    this.#host.log(`cannot punch to ${name}: ${reason}`);
    return { ok: false, reason };
  }

  async #punchVia(quic: QuicService, c: PunchSession, peer: Uint8Array): Promise<string> {
    const probe = check("punch.probe", "result", await c.rpc.request("punch.probe", {}));
    const nonce = decodeB64(probe.nonce);
    const observer = { host: hostOf(c.remote), port: probe.port };
    const seen = await sendProbe(quic, observer, decodeB64(probe.cert), nonce)
      .catch((err) => {
        throw new RojError("unreachable", `probe failed: ${(err as Error).message}`);
      });
    this.#noteSeen(observer, seen);
    const answer = check(
      "punch.ask",
      "result",
      await c.rpc.request(
        "punch.ask",
        { peer: encodeB64(peer), nonce: probe.nonce, cert: encodeB64(quic.certHash) },
        3 * PROBE_MS + 2000,
      ),
    );
    const to = parseUdpEndpoint(answer.endpoint);
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
    if (!await this.#host.attach(peer, socket, to)) {
      throw new RojError("exists", "a session with them was already up");
    }
    return formatEndpoint(to);
  }

  /** Registers the coordinator and target methods on a session with a contact. */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    rpc.handle("punch.probe", (p) => {
      check("punch.probe", "params", p);
      const quic = this.#host.quic();
      if (!quic) throw new RojError("refused", "this node has no UDP endpoint");
      this.#sweep();
      const held = [...this.#probes.values()].filter((x) => x.rpc === rpc).length;
      if (this.#probes.size >= MAX_PROBES || held >= MAX_PROBES_PER_SESSION) {
        throw new RojError("busy", "too many probes; try later");
      }
      const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
      this.#probes.set(toHex(nonce), { rpc, expires: this.#host.now() + PROBE_TTL_MS });
      return Promise.resolve({
        nonce: encodeB64(nonce),
        cert: encodeB64(quic.certHash),
        port: quic.address.port,
      });
    });
    rpc.handle("punch.ask", async (p) => {
      const params = check("punch.ask", "params", p);
      const quic = this.#host.quic();
      const mine = this.#probes.get(toHex(decodeB64(params.nonce)));
      if (!quic || !mine || mine.rpc !== rpc || !mine.seen) {
        throw new RojError("refused", "no probe from you arrived here; probe again");
      }
      const target = decodeB64(params.peer);
      const notHere = new RojError(
        "not_found",
        "that peer cannot be reached through this node now",
      );
      const session = this.#host.sessions().find((s) =>
        toHex(s.peer) === toHex(target) && !s.rpc.closed
      );
      if (!session || toHex(target) === toHex(peer)) throw notHere;
      const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
      const key = toHex(nonce);
      this.#probes.set(key, { rpc: session.rpc, expires: this.#host.now() + PROBE_TTL_MS });
      let offer;
      try {
        offer = check(
          "punch.offer",
          "result",
          await session.rpc.request(
            "punch.offer",
            {
              peer: encodeB64(peer),
              endpoint: formatEndpoint(mine.seen),
              cert: params.cert,
              nonce: encodeB64(nonce),
              probeCert: encodeB64(quic.certHash),
              port: quic.address.port,
            },
            2 * PROBE_MS + 1000,
          ),
        );
      } catch (err) {
        // The target says this only to its own contacts (after its check), so
        // passing it on tells the asker nothing it may not know: no punch to
        // them can work, the relay is the way.
        if (isRojError(err, "refused") && /symmetric NAT/.test((err as Error).message)) {
          throw new RojError("refused", SYMMETRIC_TARGET);
        }
        throw notHere;
      } finally {
        this.#probes.delete(toHex(decodeB64(params.nonce)));
      }
      const seen = this.#probes.get(key)?.seen;
      this.#probes.delete(key);
      if (!seen) throw notHere;
      this.#host.log(
        `introduced ${this.#host.name(peer)} (${formatEndpoint(mine.seen)}) to ${
          this.#host.name(target)
        } (${formatEndpoint(seen)}) for a punch`,
      );
      return { endpoint: formatEndpoint(seen), cert: offer.cert };
    });
    rpc.handle("punch.offer", async (p) => {
      const params = check("punch.offer", "params", p);
      const quic = this.#host.quic();
      const asker = decodeB64(params.peer);
      if (!quic || !this.#host.accepted(asker)) throw new RojError("refused", "no");
      if (this.#host.sessions().some((s) => toHex(s.peer) === toHex(asker))) {
        throw new RojError("exists", "connected already");
      }
      const to = parseUdpEndpoint(params.endpoint);
      if (this.mapping.kind === "symmetric") {
        // Told only to a contact (checked above): our packets would leave from a port the asker cannot know.
        this.#host.log(
          `${this.#host.name(asker)} asks for a punched path, via ${
            this.#host.name(peer)
          }: refused, we are behind a symmetric NAT`,
        );
        throw new RojError("refused", "behind a symmetric NAT: no punched path; use a relay");
      }
      if (this.#offers >= MAX_OFFERS) throw new RojError("busy", "too many punches at once");
      this.#offers++;
      try {
        const observer = { host: hostOf(rpc.pipe.remote), port: params.port };
        this.#noteSeen(
          observer,
          await sendProbe(quic, observer, decodeB64(params.probeCert), decodeB64(params.nonce)),
        );
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
      this.#host.log(
        `${this.#host.name(asker)} (${formatEndpoint(to)}) asks for a punched path, via ${
          this.#host.name(peer)
        }`,
      );
      return { cert: encodeB64(quic.certHash) };
    });
  }

  /** A probe arrived on our UDP endpoint: note where it came from, for the session that holds its nonce. */
  onProbe(conn: Deno.QuicConn, stream: Deno.QuicBidirectionalStream, from: Endpoint): void {
    const closeSoon = setTimeout(() => conn.close({ closeCode: 0, reason: "done" }), PROBE_MS);
    (async () => {
      const nonce = await readAtMost(stream.readable, NONCE_BYTES, PROBE_MS);
      const probe = nonce.length === NONCE_BYTES ? this.#probes.get(toHex(nonce)) : undefined;
      const writer = stream.writable.getWriter();
      if (probe && probe.expires > this.#host.now() && !probe.seen) {
        probe.seen = from;
        await writer.write(new TextEncoder().encode(formatEndpoint(from)));
      }
      await writer.close();
    })().catch(() => {}).finally(() => {
      clearTimeout(closeSoon);
      setTimeout(() => {
        try {
          conn.close({ closeCode: 0, reason: "done" });
        } catch { /* closed */ }
      }, 200);
    });
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
      if (!this.#canCoordinate(c) || (last && this.#host.now() - last < MAPPING_TTL_MS)) continue;
      this.#mappingProbed.set(c.rpc, this.#host.now());
      try {
        const probe = check("punch.probe", "result", await c.rpc.request("punch.probe", {}));
        const observer = { host: hostOf(c.remote), port: probe.port };
        this.#noteSeen(
          observer,
          await sendProbe(quic, observer, decodeB64(probe.cert), decodeB64(probe.nonce)),
        );
      } catch { /* an older peer, busy, or its UDP is filtered: another may answer */ }
    }
  }

  /** A coordinator at `observer` saw our endpoint at `seen` ("ip:port"): update the NAT verdict. */
  #noteSeen(observer: Endpoint, seen: string): void {
    let at: Endpoint;
    try {
      at = parseUdpEndpoint(seen);
    } catch {
      return; // a coordinator's word is no address: ignore it
    }
    const key = formatEndpoint(observer);
    this.#seen.delete(key);
    this.#seen.set(key, {
      observer: key,
      seenHost: at.host,
      seenPort: at.port,
      at: this.#host.now(),
    });
    while (this.#seen.size > MAX_OBSERVERS) this.#seen.delete(this.#seen.keys().next().value!);
    this.#classify();
  }

  #expireSeen(): void {
    const now = this.#host.now();
    let expired = false;
    for (const [k, o] of this.#seen) {
      if (now - o.at > MAPPING_TTL_MS) {
        this.#seen.delete(k);
        expired = true;
      }
    }
    if (expired) this.#classify();
  }

  #classify(): void {
    const next = classifyMapping([...this.#seen.values()]);
    if (next.kind === this.#mapping.kind) {
      this.#mapping = next;
      return;
    }
    this.#mapping = next;
    if (next.kind === "symmetric") {
      this.#host.log(
        `behind a symmetric NAT: ${next.reason}; no punched paths, contacts come through relays`,
      );
    } else if (next.kind === "endpoint-independent") {
      this.#host.log(`our NAT keeps one UDP port for every destination: ${next.reason}`);
    }
  }

  #sweep(): void {
    const now = this.#host.now();
    for (const [k, p] of this.#probes) if (p.expires <= now || p.rpc.closed) this.#probes.delete(k);
  }
}
