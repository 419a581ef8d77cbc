/** Length-prefixed JSON frames; see messages.ts for the layout. */
import { RojError } from "../errors.ts";
import { type Frame, HelloSchema, MAX_FRAME, RequestSchema, ResponseSchema } from "./messages.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** One frame's bytes. @throws {RojError} protocol when the frame would be over MAX_FRAME. */
export function encodeFrame(frame: Frame): Uint8Array {
  const payload = encoder.encode(JSON.stringify(frame));
  if (payload.length > MAX_FRAME) {
    throw new RojError(
      "protocol",
      `frame of ${payload.length} bytes is over the ${MAX_FRAME} limit`,
    );
  }
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

/**
 * Reassembles frames from chunks. Throws RojError("protocol") for an
 * oversized, empty, non-JSON or ill-shaped frame; the caller then closes the
 * session. The length is checked before any payload is buffered.
 */
export class FrameDecoder {
  #buf = new Uint8Array(0);

  push(chunk: Uint8Array): Frame[] {
    const buf = this.#buf.length === 0 ? chunk : concat(this.#buf, chunk);
    const frames: Frame[] = [];
    let pos = 0;
    while (buf.length - pos >= 4) {
      const len = new DataView(buf.buffer, buf.byteOffset + pos, 4).getUint32(0);
      if (len === 0 || len > MAX_FRAME) {
        throw new RojError("protocol", `frame of ${len} bytes refused (limit ${MAX_FRAME})`);
      }
      if (buf.length - pos - 4 < len) break;
      frames.push(parseFrame(buf.subarray(pos + 4, pos + 4 + len)));
      pos += 4 + len;
    }
    this.#buf = pos === buf.length ? new Uint8Array(0) : buf.slice(pos);
    return frames;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function parseFrame(payload: Uint8Array): Frame {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(payload));
  } catch {
    throw new RojError("protocol", "frame is not UTF-8 JSON");
  }
  if (
    typeof value !== "object" || value === null || typeof (value as { t?: unknown }).t !== "string"
  ) {
    throw new RojError("protocol", "frame has no kind");
  }
  const t = (value as { t: string }).t;
  const schema = t === "hello"
    ? HelloSchema
    : t === "req"
    ? RequestSchema
    : t === "res"
    ? ResponseSchema
    : null;
  // Unknown kinds pass through to be ignored; known kinds must match their schema.
  if (schema === null) return { t: t.slice(0, 32) };
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new RojError("protocol", `${t} frame has an invalid shape`);
  return parsed.data as Frame;
}
