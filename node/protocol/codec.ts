/** Length-prefixed JSON frames; see messages.ts for the layout. */
import { RojError } from "../errors.ts";
import {
  BINARY_ANSWER_HEAD,
  BINARY_REQUEST_HEAD,
  type BinaryAnswer,
  type BinaryRequest,
  type Frame,
  HelloSchema,
  MAX_FRAME,
  RequestSchema,
  ResponseSchema,
} from "./messages.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** One frame's bytes. @throws {RojError} protocol when the frame would be over MAX_FRAME. */
export function encodeFrame(frame: Frame): Uint8Array {
  if (frame.t === "bin") return encodeBinary(frame as BinaryAnswer);
  if (frame.t === "breq") return encodeBinaryRequest(frame as BinaryRequest);
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

/** A binary answer's bytes: 4 length, 0x00 0x62, 8 id, the bytes. */
function encodeBinary(f: BinaryAnswer): Uint8Array {
  const len = 10 + f.bytes.length;
  if (len > MAX_FRAME) {
    throw new RojError("protocol", `frame of ${len} bytes is over the ${MAX_FRAME} limit`);
  }
  const out = new Uint8Array(4 + len);
  const view = new DataView(out.buffer);
  view.setUint32(0, len);
  out.set(BINARY_ANSWER_HEAD, 4);
  view.setBigUint64(6, BigInt(f.id));
  out.set(f.bytes, 14);
  return out;
}

/** A binary request's bytes: 4 length, 0x00 0x71, 8 id, 1 method length, the method, the bytes. */
function encodeBinaryRequest(f: BinaryRequest): Uint8Array {
  if (!METHOD_RE.test(f.m)) throw new RojError("protocol", "not a method name");
  const len = 11 + f.m.length + f.bytes.length;
  if (len > MAX_FRAME) {
    throw new RojError("protocol", `frame of ${len} bytes is over the ${MAX_FRAME} limit`);
  }
  const out = new Uint8Array(4 + len);
  const view = new DataView(out.buffer);
  view.setUint32(0, len);
  out.set(BINARY_REQUEST_HEAD, 4);
  view.setBigUint64(6, BigInt(f.id));
  out[14] = f.m.length;
  for (let i = 0; i < f.m.length; i++) out[15 + i] = f.m.charCodeAt(i);
  out.set(f.bytes, 15 + f.m.length);
  return out;
}

/**
 * A copy of `b`. Not `b.slice()`: an SSH pipe hands over Node Buffers, whose
 * slice() is a view of the same memory, which ssh2 reuses for what comes next.
 */
function copyOf(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

/** A binary request's method: ASCII of [a-z.], 1..64 long. */
const METHOD_RE = /^[a-z.]{1,64}$/;
const latin1 = new TextDecoder("latin1");

/** A binary request's head and bytes. @throws {RojError} protocol when the head is malformed */
function parseBinaryRequest(payload: Uint8Array, borrowed: boolean): BinaryRequest {
  if (payload.length < 11) throw new RojError("protocol", "malformed binary request");
  const id = new DataView(payload.buffer, payload.byteOffset + 2, 8).getBigUint64(0);
  if (id > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RojError("protocol", "binary frame id out of range");
  }
  const mlen = payload[10]!;
  const m = payload.length >= 11 + mlen ? latin1.decode(payload.subarray(11, 11 + mlen)) : "";
  if (!METHOD_RE.test(m)) throw new RojError("protocol", "binary request names no method");
  const rest = payload.subarray(11 + mlen);
  return { t: "breq", id: Number(id), m, bytes: borrowed ? copyOf(rest) : rest };
}

/**
 * Reassembles frames from chunks. Throws RojError("protocol") for an
 * oversized, empty, non-JSON or ill-shaped frame; the caller then closes the
 * session. The length is checked before any payload is buffered.
 */
export class FrameDecoder {
  /** Bytes received and not yet parsed, in order; large frames arrive in many chunks. */
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Payload length of the frame being received, once its header is in; else -1. */
  #need = -1;

  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    if (chunk.length === 0) return frames;
    // Chunks are kept as they come and joined once per frame: joining on every
    // chunk copied a large frame over and over (quadratic in its size).
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < 4) break;
        const head = this.#peek(4);
        const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
        if (len === 0 || len > MAX_FRAME) {
          throw new RojError("protocol", `frame of ${len} bytes refused (limit ${MAX_FRAME})`);
        }
        this.#need = len;
      }
      if (this.#buffered < 4 + this.#need) break;
      const frame = this.#take(4 + this.#need);
      this.#need = -1;
      // A binary answer's bytes outlive this call: never a view of the caller's buffer.
      frames.push(parseFrame(frame.subarray(4), frame.buffer === chunk.buffer));
    }
    // What is kept of this chunk is copied: the caller may reuse its buffer.
    const last = this.#chunks.length - 1;
    if (last >= 0 && this.#chunks[last]!.buffer === chunk.buffer) {
      this.#chunks[last] = copyOf(this.#chunks[last]!);
    }
    return frames;
  }

  /** The first `n` buffered bytes (n <= buffered), without consuming them. */
  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of this.#chunks) {
      const part = c.subarray(0, n - at);
      out.set(part, at);
      at += part.length;
      if (at === n) break;
    }
    return out;
  }

  /** Removes and returns the first `n` buffered bytes (n <= buffered) as one array. */
  #take(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.#chunks[0]!;
      const part = c.subarray(0, n - at);
      out.set(part, at);
      at += part.length;
      if (part.length === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(part.length);
    }
    return out;
  }
}

function parseFrame(payload: Uint8Array, borrowed = false): Frame {
  if (payload[0] === BINARY_REQUEST_HEAD[0] && payload[1] === BINARY_REQUEST_HEAD[1]) {
    return parseBinaryRequest(payload, borrowed);
  }
  if (payload[0] === BINARY_ANSWER_HEAD[0]) {
    if (payload.length < 10 || payload[1] !== BINARY_ANSWER_HEAD[1]) {
      throw new RojError("protocol", "malformed binary frame");
    }
    const id = new DataView(payload.buffer, payload.byteOffset + 2, 8).getBigUint64(0);
    if (id > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new RojError("protocol", "binary frame id out of range");
    }
    const bytes = borrowed ? copyOf(payload.subarray(10)) : payload.subarray(10);
    return { t: "bin", id: Number(id), bytes } as BinaryAnswer;
  }
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(payload));
  } catch (err) {
    throw new RojError("protocol", "frame is not UTF-8 JSON", { cause: err });
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
  if (!parsed.success) {
    throw new RojError("protocol", `${t} frame has an invalid shape`, { cause: parsed.error });
  }
  return parsed.data as Frame;
}
