/**
 * SSH wire encoding (RFC 4251 §5): uint32 big-endian, length-prefixed strings.
 * Used for OpenSSH key files, SSHSIG blobs and Roj's canonical entry bytes, so
 * that everything we sign has one fixed, unambiguous byte layout.
 */
import { RojError } from "../errors.ts";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** Builds a byte string piece by piece; grows as needed. */
export class WireWriter {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.#reserve(1);
    this.#buf[this.#len++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new RangeError(`u32 out of range: ${v}`);
    }
    this.#reserve(4);
    this.#view.setUint32(this.#len, v);
    this.#len += 4;
    return this;
  }

  u64(v: number | bigint): this {
    const b = BigInt(v);
    if (b < 0n || b > 0xffffffffffffffffn) throw new RangeError(`u64 out of range: ${v}`);
    this.#reserve(8);
    this.#view.setBigUint64(this.#len, b);
    this.#len += 8;
    return this;
  }

  /** Raw bytes with no length prefix. */
  raw(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
    return this;
  }

  /** A length-prefixed string; text is encoded as UTF-8. */
  string(v: Uint8Array | string): this {
    const bytes = typeof v === "string" ? encoder.encode(v) : v;
    this.u32(bytes.length);
    return this.raw(bytes);
  }

  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** Reads SSH wire data; every read is bounds-checked and throws `RojError("bad_input")`. */
export class WireReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #pos = 0;
  readonly #what: string;

  /** @param what names the structure being read, for error messages. */
  constructor(buf: Uint8Array, what = "data") {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#what = what;
  }

  #need(n: number): void {
    if (this.#pos + n > this.#buf.length) {
      throw new RojError("bad_input", `${this.#what} is truncated`);
    }
  }

  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  u8(): number {
    this.#need(1);
    return this.#buf[this.#pos++]!;
  }

  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#pos);
    this.#pos += 4;
    return v;
  }

  u64(): bigint {
    this.#need(8);
    const v = this.#view.getBigUint64(this.#pos);
    this.#pos += 8;
    return v;
  }

  raw(n: number): Uint8Array {
    this.#need(n);
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  string(): Uint8Array {
    return this.raw(this.u32());
  }

  /** A length-prefixed string that must be valid UTF-8. */
  text(): string {
    const bytes = this.string();
    try {
      return strictDecoder.decode(bytes);
    } catch {
      throw new RojError("bad_input", `${this.#what} holds text that is not UTF-8`);
    }
  }

  /** Throws unless every byte was consumed. */
  end(): void {
    if (this.#pos !== this.#buf.length) {
      throw new RojError("bad_input", `${this.#what} has ${this.remaining} trailing bytes`);
    }
  }
}

/** Constant-time-ish equality for short byte strings (keys, tags, hashes). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
