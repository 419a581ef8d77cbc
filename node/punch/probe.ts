/**
 * A QUIC probe: from our UDP endpoint, the nonce a coordinator gave us over
 * our session, so that it can tie the endpoint it sees to that session; its
 * answer is where it saw us.
 */
import type { Clock } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import { ALPN_PROBE, type Endpoint, formatEndpoint, type QuicService } from "../transport/mod.ts";

/** How long a probe's handshake, and its answer, may take. */
export const PROBE_MS = 3000;

/** Reads up to `max` bytes of `stream`, for at most `ms`; what arrived by then is the answer. */
export async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  max: number,
  ms: number,
  clock: Clock,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const timer = clock.setTimeout(() => reader.cancel().catch(() => {}), ms);
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
    clock.clearTimeout(timer);
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
 * Sends a probe from our endpoint to a coordinator at `to`, pinning its
 * certificate. Returns the endpoint it reports ("ip:port", unchecked).
 * @throws {RojError} refused when it does not answer
 */
export async function sendProbe(
  quic: QuicService,
  to: Endpoint,
  cert: Uint8Array,
  nonce: Uint8Array,
  clock: Clock,
): Promise<string> {
  const conn = await quic.connect(to, cert, ALPN_PROBE, PROBE_MS);
  try {
    const stream = await conn.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(nonce);
    await writer.close();
    const answer = new TextDecoder().decode(
      await readAtMost(stream.readable, 64, PROBE_MS, clock),
    );
    if (!answer) throw new RojError("refused", `${formatEndpoint(to)} did not take our probe`);
    return answer;
  } finally {
    conn.close({ closeCode: 0, reason: "probed" });
  }
}
