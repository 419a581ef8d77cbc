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

/** Bytes of a binary answer's frame before its bytes: 4 length, 2 head, 8 id. */
const ANSWER_ROOM = 14;
/** Buffers made by answerBuffer whose room in front is not used yet. */
const roomy = new WeakSet<ArrayBufferLike>();

/**
 * A buffer for `n` bytes that encodeFrame sends as a binary answer without
 * copying them: ANSWER_ROOM bytes of room in front for the frame's head. A
 * file chunk is read straight into one (files/chunk_store.ts read). Its room
 * serves one frame: a second answer of the same bytes is copied, as the
 * first may still wait in the channel's queue.
 */
export function answerBuffer(n: number): Uint8Array {
  const buf = new ArrayBuffer(ANSWER_ROOM + n);
  roomy.add(buf);
  return new Uint8Array(buf, ANSWER_ROOM, n);
}

/** A binary answer's bytes: 4 length, 0x00 0x62, 8 id, the bytes. */
function encodeBinary(f: BinaryAnswer): Uint8Array {
  const len = 10 + f.bytes.length;
  if (len > MAX_FRAME) {
    throw new RojError("protocol", `frame of ${len} bytes is over the ${MAX_FRAME} limit`);
  }
  const room = f.bytes.byteOffset === ANSWER_ROOM && roomy.delete(f.bytes.buffer);
  const out = room ? new Uint8Array(f.bytes.buffer, 0, 4 + len) : new Uint8Array(4 + len);
  const view = new DataView(out.buffer, out.byteOffset, 14);
  view.setUint32(0, len);
  out.set(BINARY_ANSWER_HEAD, 4);
  view.setBigUint64(6, BigInt(f.id));
  if (!room) out.set(f.bytes, 14);
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
 *
 * One copy per frame: a frame wholly inside one chunk is parsed from it (a
 * binary answer's bytes copied out, the caller reuses its buffer); a longer
 * one gets a buffer of its length once its header is in, and each chunk's
 * part is copied straight there. (Keeping the chunks and joining them made
 * two copies of every file chunk, and twice the garbage.) That buffer is at
 * most MAX_FRAME, what a peer could make us hold by sending it anyway.
 */
export class FrameDecoder {
  /** A length header split across chunks: its first bytes. */
  readonly #head = new Uint8Array(4);
  #headLen = 0;
  /** The payload of the frame being received, once its header is in; else null. */
  #frame: Uint8Array | null = null;
  #at = 0;

  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (this.#frame === null) {
        let len: number;
        if (this.#headLen === 0 && chunk.length - off >= 4) {
          len = new DataView(chunk.buffer, chunk.byteOffset + off, 4).getUint32(0);
          off += 4;
        } else {
          const n = Math.min(4 - this.#headLen, chunk.length - off);
          this.#head.set(chunk.subarray(off, off + n), this.#headLen);
          this.#headLen += n;
          off += n;
          if (this.#headLen < 4) break;
          this.#headLen = 0;
          len = new DataView(this.#head.buffer).getUint32(0);
        }
        if (len === 0 || len > MAX_FRAME) {
          throw new RojError("protocol", `frame of ${len} bytes refused (limit ${MAX_FRAME})`);
        }
        if (chunk.length - off >= len) {
          // A binary answer's bytes outlive this call: never a view of the caller's buffer.
          frames.push(parseFrame(chunk.subarray(off, off + len), true));
          off += len;
          continue;
        }
        this.#frame = new Uint8Array(len);
        this.#at = 0;
      }
      const n = Math.min(this.#frame.length - this.#at, chunk.length - off);
      this.#frame.set(chunk.subarray(off, off + n), this.#at);
      this.#at += n;
      off += n;
      if (this.#at === this.#frame.length) {
        const whole = this.#frame;
        this.#frame = null;
        frames.push(parseFrame(whole));
      }
    }
    return frames;
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
