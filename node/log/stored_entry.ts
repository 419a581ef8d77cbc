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
import { corrupt } from "../store/mod.ts";
import { decodeEntry, type Entry, entryHash } from "./entry.ts";

/** Signed bytes and signature, as they travel. */
export interface RawEntry {
  readonly signed: Uint8Array;
  readonly sig: Uint8Array;
}

/** An entry as sync sends it: its place in the author's chain and its bytes. */
export interface SeqEntry extends RawEntry {
  readonly seq: number;
}

const FORMAT = 1;
const HEAD = 5;

/** The KV value for an entry. */
export function packEntry(signed: Uint8Array, sig: Uint8Array): Uint8Array {
  return packEntries([{ signed, sig }])[0]!;
}

/**
 * The KV values of many entries, as views into one buffer: one allocation
 * per commit instead of one per entry (Deno KV stores just the view's bytes).
 */
export function packEntries(items: ReadonlyArray<RawEntry>): Uint8Array[] {
  let total = 0;
  for (const e of items) total += HEAD + e.signed.length + e.sig.length;
  const buf = new Uint8Array(total);
  const out = new Array<Uint8Array>(items.length);
  let at = 0;
  for (let i = 0; i < items.length; i++) {
    const { signed, sig } = items[i]!;
    const n = signed.length;
    buf[at] = FORMAT;
    buf[at + 1] = n >>> 24;
    buf[at + 2] = (n >>> 16) & 0xff;
    buf[at + 3] = (n >>> 8) & 0xff;
    buf[at + 4] = n & 0xff;
    buf.set(signed, at + HEAD);
    buf.set(sig, at + HEAD + n);
    const end = at + HEAD + n + sig.length;
    out[i] = buf.subarray(at, end);
    at = end;
  }
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

/**
 * Reads an entry that this node stored earlier; its signature was checked on
 * the way in, so it is decoded and hashed, not verified.
 * @throws {RojError} corrupt, naming the key, when the value is no entry
 */
export function storedEntry(key: Deno.KvKey, value: unknown): Entry {
  const raw = unpackEntry(value);
  if (raw === null) throw corrupt(key, "entry");
  try {
    return {
      ...decodeEntry(raw.signed),
      signed: raw.signed,
      sig: raw.sig,
      hash: entryHash(raw.signed),
    };
  } catch {
    throw corrupt(key, "entry");
  }
}
