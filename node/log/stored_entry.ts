/**
 * How an entry's signed bytes and signature sit in a KV value.
 *
 * Schema 2 packs them into one byte string:
 *
 *   byte    1 (format)
 *   uint32  length of the signed bytes
 *   bytes   signed bytes
 *   bytes   SSHSIG blob (the rest)
 *
 * Deno KV stores a Uint8Array as it is, while an object goes through V8's
 * serializer on every write and read; on the merge hot path that was a third
 * of the main thread's time. Schema 1 stored `{ signed, sig }` objects; they
 * are still read.
 */
import type { RawEntry } from "./chat_log.ts";

const FORMAT = 1;
const HEAD = 5;

/** The KV value for an entry. */
export function packEntry(signed: Uint8Array, sig: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEAD + signed.length + sig.length);
  const n = signed.length;
  out[0] = FORMAT;
  out[1] = n >>> 24;
  out[2] = (n >>> 16) & 0xff;
  out[3] = (n >>> 8) & 0xff;
  out[4] = n & 0xff;
  out.set(signed, HEAD);
  out.set(sig, HEAD + n);
  return out;
}

/**
 * The signed bytes and signature in a KV value of either schema (views into
 * `value`, not copies); null when it has neither shape.
 */
export function unpackEntry(value: unknown): RawEntry | null {
  if (value instanceof Uint8Array) {
    if (value.length < HEAD || value[0] !== FORMAT) return null;
    const n = (value[1]! << 24 | value[2]! << 16 | value[3]! << 8 | value[4]!) >>> 0;
    if (HEAD + n > value.length) return null;
    return { signed: value.subarray(HEAD, HEAD + n), sig: value.subarray(HEAD + n) };
  }
  const v = value as RawEntry;
  if (
    typeof value === "object" && value !== null && v.signed instanceof Uint8Array &&
    v.sig instanceof Uint8Array
  ) return { signed: v.signed, sig: v.sig };
  return null;
}
