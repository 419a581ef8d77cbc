/**
 * A NAT-PMP client for just what Roj needs (RFC 6886): the external address,
 * map, renew and unmap. Hand-written because @achingbrain/nat-port-mapper
 * 4.0.5's PMP gateway cannot unmap (its stop() re-binds its socket and throws
 * ERR_SOCKET_ALREADY_BOUND), unmaps TCP only, never retransmits (one lost
 * datagram blocks its queue for good) and binds the fixed port 5350, which two
 * nodes on one machine would share.
 *
 * Wire format (all integers big-endian), client → gateway UDP port 5351:
 *
 *   external address request   | 0 (version) | 0 (op) |
 *   external address response  | 0 | 128 | result:u16 | epoch:u32 | ipv4:4 bytes |
 *   map request                | 0 | 1 UDP / 2 TCP | 0:u16 | internal port:u16 |
 *                              | suggested external port:u16 | lifetime s:u32 |
 *   map response               | 0 | 128+op | result:u16 | epoch:u32 | internal port:u16 |
 *                              | external port:u16 | lifetime s:u32 |
 *
 * A mapping is removed by mapping it again with lifetime 0 and suggested
 * external port 0 (§3.4). Requests are retransmitted after 250 ms, doubling
 * (§3.1), until the caller's timeout.
 */

import { type Clock, systemClock, type TimerId } from "../clock/mod.ts";
import { RojError } from "../errors.ts";

export const NAT_PMP_PORT = 5351;

export type Protocol = "tcp" | "udp";

const RESULTS: Record<number, string> = {
  1: "unsupported version",
  2: "not authorized (NAT-PMP disabled on the router?)",
  3: "network failure (the router has no external address?)",
  4: "out of resources (no ports left)",
  5: "unsupported opcode",
};

export function encodeExternalAddressRequest(): Uint8Array {
  return new Uint8Array([0, 0]);
}

export function encodeMapRequest(
  protocol: Protocol,
  internalPort: number,
  externalPort: number,
  lifetimeS: number,
): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  b[1] = protocol === "udp" ? 1 : 2;
  v.setUint16(4, internalPort);
  v.setUint16(6, externalPort);
  v.setUint32(8, lifetimeS);
  return b;
}

export type NatPmpResponse =
  | { readonly op: 0; readonly epoch: number; readonly externalIp: string }
  | {
    readonly op: 1 | 2;
    readonly epoch: number;
    readonly internalPort: number;
    readonly externalPort: number;
    readonly lifetimeS: number;
  };

/**
 * Decodes a gateway's answer; undefined for a datagram that is not a NAT-PMP
 * response (ignored, as a stray packet should be).
 * @throws {Error} the gateway's refusal, with its reason
 */
export function decodeResponse(b: Uint8Array): NatPmpResponse | undefined {
  if (b.length < 8 || b[0] !== 0 || b[1]! < 128 || b[1]! > 130) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const op = (b[1]! - 128) as 0 | 1 | 2;
  const result = v.getUint16(2);
  if (result !== 0) {
    throw new RojError(
      "refused",
      `NAT-PMP gateway refused: ${RESULTS[result] ?? `result code ${result}`}`,
    );
  }
  const epoch = v.getUint32(4);
  if (op === 0) {
    if (b.length < 12) return undefined;
    return { op, epoch, externalIp: `${b[8]}.${b[9]}.${b[10]}.${b[11]}` };
  }
  if (b.length < 16) return undefined;
  return {
    op,
    epoch,
    internalPort: v.getUint16(8),
    externalPort: v.getUint16(10),
    lifetimeS: v.getUint32(12),
  };
}

/** One gateway's NAT-PMP service. Each call uses its own short-lived UDP socket. */
export class NatPmpClient {
  readonly host: string;
  readonly #port: number;
  readonly #clock: Clock;

  /** @param clock times the retransmissions. @default systemClock */
  constructor(host: string, port = NAT_PMP_PORT, clock: Clock = systemClock) {
    this.host = host;
    this.#port = port;
    this.#clock = clock;
  }

  /** @throws {Error} no answer within the signal's time, or a refusal */
  async externalIp(signal: AbortSignal): Promise<string> {
    const r = await this.#ask(encodeExternalAddressRequest(), 0, undefined, signal);
    if (r.op !== 0) throw new Error("NAT-PMP: unexpected answer");
    return r.externalIp;
  }

  /**
   * Maps (or renews) `internalPort`, asking for `externalPort`; the gateway may
   * grant another port and a shorter lifetime.
   * @throws {Error} no answer within the signal's time, or a refusal
   */
  async map(
    protocol: Protocol,
    internalPort: number,
    externalPort: number,
    lifetimeS: number,
    signal: AbortSignal,
  ): Promise<{ externalPort: number; lifetimeS: number }> {
    const op = protocol === "udp" ? 1 : 2;
    const r = await this.#ask(
      encodeMapRequest(protocol, internalPort, externalPort, lifetimeS),
      op,
      internalPort,
      signal,
    );
    if (r.op === 0) throw new Error("NAT-PMP: unexpected answer");
    return { externalPort: r.externalPort, lifetimeS: r.lifetimeS };
  }

  /** Removes this machine's mapping of `internalPort`. */
  async unmap(protocol: Protocol, internalPort: number, signal: AbortSignal): Promise<void> {
    await this.map(protocol, internalPort, 0, 0, signal);
  }

  async #ask(
    request: Uint8Array,
    op: 0 | 1 | 2,
    internalPort: number | undefined,
    signal: AbortSignal,
  ): Promise<NatPmpResponse> {
    signal.throwIfAborted();
    const socket = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
    const to: Deno.NetAddr = { transport: "udp", hostname: this.host, port: this.#port };
    let timer: TimerId | undefined;
    const onAbort = () => socket.close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      let wait = 250;
      const resend = () => {
        socket.send(request, to).catch(() => {});
        timer = this.#clock.setTimeout(resend, wait);
        wait *= 2;
      };
      resend();
      for (;;) {
        const [data, from] = await socket.receive();
        const addr = from as Deno.NetAddr;
        // Only the gateway's own answer counts (§3.1: others are ignored).
        if (addr.hostname !== this.host || addr.port !== this.#port) continue;
        const r = decodeResponse(data);
        if (!r || r.op !== op) continue;
        if (r.op !== 0 && internalPort !== undefined && r.internalPort !== internalPort) continue;
        return r;
      }
    } catch (err) {
      if (signal.aborted) {
        throw new RojError("timeout", `NAT-PMP gateway ${this.host} did not answer`, {
          cause: signal.reason,
        });
      }
      throw err;
    } finally {
      this.#clock.clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      try {
        socket.close();
      } catch {
        // Closed by the abort already.
      }
    }
  }
}
