/**
 * The coordinator's side of a punch (see punch.ts): it hands out nonces
 * (punch.probe), notes the UDP endpoint each nonce's probe came from, and
 * introduces an asker to a target it also has a session with (punch.ask →
 * punch.offer), passing each the other's endpoint. Observations are bound
 * to the authenticated session that asked for the nonce.
 */
import { isRojError, RojError } from "../errors.ts";
import { toHex } from "../log/mod.ts";
import { decodeB64, encodeB64, type ParamsOf, type RpcSession } from "../protocol/mod.ts";
import { type Endpoint, formatEndpoint } from "../transport/mod.ts";
import { PROBE_MS, readAtMost } from "./probe.ts";
import { type PunchEnv, SYMMETRIC_TARGET } from "./punch_host.ts";

export const NONCE_BYTES = 16;
/** A probe's observation is good for this long; punches follow within seconds. */
const PROBE_TTL_MS = 30_000;
const MAX_PROBES = 256;
/** Nonces one session may hold at once, so that one contact cannot take every slot. */
const MAX_PROBES_PER_SESSION = 4;
/** How long a probe connection stays open after its answer, for the answer to get out. */
const LINGER_MS = 200;

interface Probe {
  readonly rpc: RpcSession;
  readonly expires: number;
  seen?: Endpoint;
}

/** Nonces handed out, and where each one's probe came from. */
export class Coordinator {
  readonly #env: PunchEnv;
  /** Nonces handed out as a coordinator, by hex. */
  readonly #probes = new Map<string, Probe>();

  constructor(env: PunchEnv) {
    this.#env = env;
  }

  /** Registers punch.probe and punch.ask on a session with contact `peer`. */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    rpc.handle("punch.probe", () => this.#probe(rpc));
    rpc.handle("punch.ask", (p) => this.#ask(rpc, peer, p));
  }

  #probe(rpc: RpcSession) {
    const quic = this.#env.host.quic();
    if (!quic) throw new RojError("refused", "this node has no UDP endpoint");
    this.#sweep();
    const held = [...this.#probes.values()].filter((x) => x.rpc === rpc).length;
    if (this.#probes.size >= MAX_PROBES || held >= MAX_PROBES_PER_SESSION) {
      throw new RojError("busy", "too many probes; try later");
    }
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    this.#probes.set(toHex(nonce), { rpc, expires: this.#env.now() + PROBE_TTL_MS });
    return Promise.resolve({
      nonce: encodeB64(nonce),
      cert: encodeB64(quic.certHash),
      port: quic.address.port,
    });
  }

  async #ask(rpc: RpcSession, peer: Uint8Array, params: ParamsOf<"punch.ask">) {
    const host = this.#env.host;
    const quic = host.quic();
    const mine = this.#probes.get(toHex(decodeB64(params.nonce)));
    if (!quic || !mine || mine.rpc !== rpc || !mine.seen) {
      throw new RojError("refused", "no probe from you arrived here; probe again");
    }
    const target = decodeB64(params.peer);
    const notHere = new RojError(
      "not_found",
      "that peer cannot be reached through this node now",
    );
    const session = host.sessions().find((s) => toHex(s.peer) === toHex(target) && !s.rpc.closed);
    if (!session || toHex(target) === toHex(peer)) throw notHere;
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const key = toHex(nonce);
    this.#probes.set(key, { rpc: session.rpc, expires: this.#env.now() + PROBE_TTL_MS });
    let offer;
    try {
      offer = await session.rpc.request(
        "punch.offer",
        {
          peer: encodeB64(peer),
          endpoint: formatEndpoint(mine.seen),
          cert: params.cert,
          nonce: encodeB64(nonce),
          probeCert: encodeB64(quic.certHash),
          port: quic.address.port,
          // The asker's signature over the endpoint we saw it at: the target's proof.
          ...(params.vouch ? { vouch: params.vouch } : {}),
        },
        2 * PROBE_MS + 1000,
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
    host.log(
      `introduced ${host.name(peer)} (${formatEndpoint(mine.seen)}) to ${host.name(target)} (${
        formatEndpoint(seen)
      }) for a punch`,
    );
    this.#env.note({ type: "introduced", asker: peer, target });
    return { endpoint: formatEndpoint(seen), cert: offer.cert };
  }

  /** A probe arrived on our UDP endpoint: note where it came from, for the session that holds its nonce. */
  onProbe(conn: Deno.QuicConn, stream: Deno.QuicBidirectionalStream, from: Endpoint): void {
    const clock = this.#env.clock;
    const closeSoon = clock.setTimeout(
      () => conn.close({ closeCode: 0, reason: "done" }),
      PROBE_MS,
    );
    (async () => {
      const nonce = await readAtMost(stream.readable, NONCE_BYTES, PROBE_MS, clock);
      const probe = nonce.length === NONCE_BYTES ? this.#probes.get(toHex(nonce)) : undefined;
      const writer = stream.writable.getWriter();
      if (probe && probe.expires > this.#env.now() && !probe.seen) {
        probe.seen = from;
        await writer.write(new TextEncoder().encode(formatEndpoint(from)));
      }
      await writer.close();
    })().catch(() => {}).finally(() => {
      clock.clearTimeout(closeSoon);
      clock.setTimeout(() => {
        try {
          conn.close({ closeCode: 0, reason: "done" });
        } catch { /* closed */ }
      }, LINGER_MS);
    });
  }

  #sweep(): void {
    const now = this.#env.now();
    for (const [k, p] of this.#probes) if (p.expires <= now || p.rpc.closed) this.#probes.delete(k);
  }
}
