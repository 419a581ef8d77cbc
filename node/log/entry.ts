/**
 * A log entry and its canonical bytes.
 *
 * Canonical bytes (SSH wire encoding, see node/wire), version 1:
 *
 *   string  "roj-entry-v1"
 *   string  chat id (ASCII, 1..64 of [a-z0-9-])
 *   string  author public key blob (string "ssh-ed25519", string 32 bytes)
 *   uint64  seq        1 for the author's first entry in this chat, then +1
 *   string  prev       empty for seq 1, else SHA-256 of the author's previous entry's bytes
 *   uint64  lamport    greater than every entry the author had seen in the chat
 *   uint64  ts         author's clock, milliseconds since the epoch
 *   string  type       1..32 of [a-z0-9._-]
 *   string  body       UTF-8, at most 64 KiB
 *
 * The SSHSIG (namespace "roj-entry") is made over exactly these bytes, so
 * `ssh-keygen -Y verify -n roj-entry` checks an entry with no Roj code at all.
 */
import { createHash } from "node:crypto";
import { RojError } from "../errors.ts";
import { WireWriter } from "../wire/mod.ts";
import {
  ENTRY_MAGIC,
  NAMESPACES,
  parsePublicKeyBlob,
  type Signer,
  signSshsig,
  type SshsigCheck,
  sshsigCheck,
  verifyEd25519,
} from "../identity/mod.ts";

const MAGIC = ENTRY_MAGIC;
/**
 * Largest body an entry may carry, in bytes: what leaves room in one Deno KV
 * value (65,536 bytes; an entry is stored as one, see stored_entry.ts) for its
 * other fields at their largest (239 bytes with a 64-character chat id and a
 * 32-character type), a signature of MAX_SIG_BYTES and the value's 5-byte
 * head. It was 64 KiB, which no entry could be stored with: a body over
 * ~65,100 bytes reached the store and failed there as an internal error
 * (found by tests/hostile_fuzz_test.ts). A group's longest message (16,000
 * three-byte characters, encrypted) takes ~64,150.
 */
export const MAX_BODY_BYTES = 64_256;
/** Largest SSHSIG blob accepted with an entry. */
export const MAX_SIG_BYTES = 1024;
const CHAT_RE = /^[a-z0-9-]{1,64}$/;
const TYPE_RE = /^[a-z0-9._-]{1,32}$/;
const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** What an author decides; everything that is signed. */
export interface EntryFields {
  readonly chat: string;
  /** Raw 32-byte ed25519 public key of the author. */
  readonly author: Uint8Array;
  readonly seq: number;
  /** SHA-256 of the author's previous entry, or null for seq 1. */
  readonly prev: Uint8Array | null;
  readonly lamport: number;
  readonly ts: number;
  readonly type: string;
  readonly body: string;
}

/** A signed entry as stored and sent. */
export interface Entry extends EntryFields {
  /** The canonical bytes that were signed. */
  readonly signed: Uint8Array;
  /** The SSHSIG blob (binary) over `signed`. */
  readonly sig: Uint8Array;
  /** SHA-256 of `signed`: the entry's identity and the next entry's `prev`. */
  readonly hash: Uint8Array;
}

function checkFields(f: EntryFields): void {
  if (!CHAT_RE.test(f.chat)) {
    throw new RojError(
      "bad_input",
      `entry chat id is invalid: ${JSON.stringify(f.chat.slice(0, 80))}`,
    );
  }
  if (f.author.length !== 32) throw new RojError("bad_input", "entry author key must be 32 bytes");
  if (!Number.isSafeInteger(f.seq) || f.seq < 1) {
    throw new RojError("bad_input", `entry seq must be a positive integer, got ${f.seq}`);
  }
  if (f.seq === 1 ? f.prev !== null : f.prev?.length !== 32) {
    throw new RojError("bad_input", `entry seq ${f.seq} has a malformed prev hash`);
  }
  if (!Number.isSafeInteger(f.lamport) || f.lamport < 1) {
    throw new RojError("bad_input", `entry lamport must be a positive integer, got ${f.lamport}`);
  }
  if (!Number.isSafeInteger(f.ts) || f.ts < 0) {
    throw new RojError("bad_input", `entry timestamp is invalid: ${f.ts}`);
  }
  if (!TYPE_RE.test(f.type)) {
    throw new RojError(
      "bad_input",
      `entry type is invalid: ${JSON.stringify(f.type.slice(0, 40))}`,
    );
  }
}

const EMPTY = new Uint8Array(0);
const MAGIC_BYTES = encoder.encode(MAGIC);
/** string "ssh-ed25519", string 32 bytes: the blob around an author key. */
const KEY_BLOB_HEAD = new Uint8Array([
  ...[0, 0, 0, 11],
  ...encoder.encode("ssh-ed25519"),
  ...[0, 0, 0, 32],
]);
const KEY_BLOB_LEN = KEY_BLOB_HEAD.length + 32;
/** Bodies up to this many UTF-16 units are certainly within MAX_BODY_BYTES. */
const SURELY_SHORT = Math.floor(MAX_BODY_BYTES / 3);

/** `body` as it is written (UTF-8 once it may be long). @throws {RojError} bad_input past MAX_BODY_BYTES. */
function bodyBytes(body: string): string | Uint8Array {
  if (body.length <= SURELY_SHORT) return body;
  const bytes = encoder.encode(body);
  if (bytes.length > MAX_BODY_BYTES) {
    throw new RojError(
      "bad_input",
      `message is ${bytes.length} bytes; the limit is ${MAX_BODY_BYTES}`,
    );
  }
  return bytes;
}

/** The canonical bytes of an entry. @throws {RojError} bad_input for fields out of range. */
export function encodeEntry(f: EntryFields): Uint8Array {
  checkFields(f);
  const body = bodyBytes(f.body);
  return new WireWriter()
    .string(MAGIC_BYTES)
    .string(f.chat)
    .u32(KEY_BLOB_LEN).raw(KEY_BLOB_HEAD).raw(f.author)
    .u64(f.seq)
    .string(f.prev ?? EMPTY)
    .u64(f.lamport)
    .u64(f.ts)
    .string(f.type)
    .string(body)
    .bytes();
}

const truncated = () => new RojError("bad_input", "entry is truncated");

/** Offset of the end of the length-prefixed string at `at`. @throws {RojError} when truncated. */
function stringEnd(b: Uint8Array, at: number): number {
  if (at + 4 > b.length) throw truncated();
  const end = at + 4 + ((b[at]! << 24 | b[at + 1]! << 16 | b[at + 2]! << 8 | b[at + 3]!) >>> 0);
  if (end > b.length) throw truncated();
  return end;
}

/** The UTF-8 text in b[from, to). @throws {RojError} when it is not UTF-8. */
function text(b: Uint8Array, from: number, to: number): string {
  if (to - from <= 64) {
    let ascii = true;
    for (let i = from; i < to; i++) if (b[i]! >= 0x80) ascii = false;
    if (ascii) return String.fromCharCode.apply(null, b.subarray(from, to) as unknown as number[]);
  }
  try {
    return strictDecoder.decode(b.subarray(from, to));
  } catch (err) {
    throw new RojError("bad_input", "entry holds text that is not UTF-8", { cause: err });
  }
}

/** The uint64 at `at` as a safe integer. @throws {RojError} when truncated or too large. */
function u64(b: Uint8Array, at: number, what: string): number {
  if (at + 8 > b.length) throw truncated();
  const hi = (b[at]! << 24 | b[at + 1]! << 16 | b[at + 2]! << 8 | b[at + 3]!) >>> 0;
  const lo = (b[at + 4]! << 24 | b[at + 5]! << 16 | b[at + 6]! << 8 | b[at + 7]!) >>> 0;
  // Above 2^53 - 1 exactly when the high word is above 2^21 - 1.
  if (hi > 0x1fffff) throw new RojError("bad_input", `entry ${what} is too large`);
  return hi * 0x100000000 + lo;
}

/** Parses and range-checks canonical bytes. @throws {RojError} bad_input. */
export function decodeEntry(signed: Uint8Array): EntryFields {
  if (signed.length > MAX_BODY_BYTES + 1024) throw new RojError("bad_input", "entry is too large");
  const b = signed;
  // Read in order, so the first problem found is the one reported.
  let end = stringEnd(b, 0);
  if (
    (end - 4 !== MAGIC_BYTES.length || !sameBytes(b, 4, MAGIC_BYTES)) && text(b, 4, end) !== MAGIC
  ) throw new RojError("bad_input", "entry has an unknown format");
  let at = end;
  end = stringEnd(b, at);
  const chat = text(b, at + 4, end);
  at = end;
  end = stringEnd(b, at);
  let author: Uint8Array;
  if (end - at - 4 === KEY_BLOB_LEN && sameBytes(b, at + 4, KEY_BLOB_HEAD)) {
    author = b.slice(end - 32, end);
  } else {
    author = parsePublicKeyBlob(b.subarray(at + 4, end)); // throws the precise reason
  }
  at = end;
  const seq = u64(b, at, "seq");
  at += 8;
  end = stringEnd(b, at);
  const prev = end === at + 4 ? null : b.slice(at + 4, end);
  at = end;
  const lamport = u64(b, at, "lamport");
  const ts = u64(b, at + 8, "timestamp");
  at += 16;
  end = stringEnd(b, at);
  const type = text(b, at + 4, end);
  at = end;
  end = stringEnd(b, at);
  const body = text(b, at + 4, end);
  if (end !== b.length) {
    throw new RojError("bad_input", `entry has ${b.length - end} trailing bytes`);
  }
  const fields: EntryFields = { chat, author, seq, prev, lamport, ts, type, body };
  checkFields(fields);
  return fields;
}

/**
 * Whether stored canonical bytes have this `type`, read from its place
 * without decoding the rest (a scan for one kind of entry among many);
 * false for bytes too short to hold one.
 */
export function hasType(signed: Uint8Array, type: string): boolean {
  try {
    let at = stringEnd(signed, stringEnd(signed, stringEnd(signed, 0))) + 8;
    at = stringEnd(signed, at) + 16;
    const end = stringEnd(signed, at);
    if (end - at - 4 !== type.length) return false;
    for (let i = 0; i < type.length; i++) {
      if (signed[at + 4 + i] !== type.charCodeAt(i)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

function sameBytes(b: Uint8Array, at: number, want: Uint8Array): boolean {
  for (let i = 0; i < want.length; i++) if (b[at + i] !== want[i]) return false;
  return true;
}

/** SHA-256 of an entry's canonical bytes: its identity, and the next entry's `prev`. */
export function entryHash(signed: Uint8Array): Uint8Array {
  // node:crypto's native hash: half the time of a JS SHA-256 for an entry's few
  // hundred bytes, and a catch-up hashes every entry it takes. A plain view, not
  // a Buffer, so that equality checks see the same type as before.
  const d = createHash("sha256").update(signed).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
}

/**
 * Signs new fields with the author's key. The signer must be the author. A
 * device's signer puts its certificate in the SSHSIG (Signer.certificate).
 */
export async function createEntry(signer: Signer, fields: EntryFields): Promise<Entry> {
  const signed = encodeEntry(fields);
  const sig = await signSshsig(signer, NAMESPACES.entry, signed, signer.certificate);
  return { ...fields, signed, sig, hash: entryHash(signed) };
}

/** Something that verifies raw Ed25519 signatures, e.g. identity's createVerifier(). */
export interface Ed25519Verifier {
  verify(pub: Uint8Array, sig: Uint8Array, data: Uint8Array): Promise<boolean>;
  /** The same check done at once; used instead of `verify` when present. */
  verifySync?(pub: Uint8Array, sig: Uint8Array, data: Uint8Array): boolean;
  /** Many checks at once (e.g. on worker threads); used for merges when present. */
  verifyMany?(checks: ReadonlyArray<SshsigCheck>): Promise<boolean[]>;
}

/** An entry decoded from its bytes whose signature is still to be verified. */
export interface UncheckedEntry {
  /** The entry, as it will be once `check` passes. */
  readonly entry: Entry;
  /** The Ed25519 check its SSHSIG stands for. */
  readonly check: SshsigCheck;
}

/**
 * Decodes `signed` and prepares the check of `sig`, everything but the Ed25519
 * verification itself (see {@linkcode verifyEntry}); for verifying many
 * entries at once.
 * @throws {RojError} bad_input for malformed bytes, bad_signature for a signature
 * that is malformed or not by the author in the entry namespace.
 */
export function prepareEntry(signed: Uint8Array, sig: Uint8Array): UncheckedEntry {
  const entry = decodeUnchecked(signed, sig);
  return { entry, check: entryCheck(entry) };
}

/**
 * Decodes and hashes an entry without looking at its signature beyond its
 * size: enough to tell an entry already held (by its hash) before paying for
 * the signature check, which {@linkcode entryCheck} then prepares.
 * @throws {RojError} bad_input for malformed bytes or a body over MAX_BODY_BYTES,
 * bad_signature for an oversized signature.
 */
export function decodeUnchecked(signed: Uint8Array, sig: Uint8Array): Entry {
  const fields = decodeEntry(signed);
  // Here, for what comes in, not in decodeEntry, which also reads what is stored.
  bodyBytes(fields.body);
  if (sig.length > MAX_SIG_BYTES) {
    throw new RojError("bad_signature", "entry signature is too large");
  }
  return {
    chat: fields.chat,
    author: fields.author,
    seq: fields.seq,
    prev: fields.prev,
    lamport: fields.lamport,
    ts: fields.ts,
    type: fields.type,
    body: fields.body,
    signed,
    sig,
    hash: entryHash(signed),
  };
}

/**
 * The Ed25519 check an entry's SSHSIG stands for.
 * @throws {RojError} bad_signature for a signature that is malformed or not by
 * the author in the entry namespace.
 */
export function entryCheck(entry: Entry): SshsigCheck {
  const check = sshsigCheck(entry.sig, NAMESPACES.entry, entry.signed, entry.author);
  if (check === null) throw badSignature(entry.seq);
  return check;
}

/** The error for an entry whose signature does not verify. */
export function badSignature(seq: number): RojError {
  return new RojError("bad_signature", `entry ${seq} of its author has a bad signature`);
}

/**
 * Decodes `signed` and checks that `sig` is the author's SSHSIG over it.
 * @throws {RojError} bad_input for malformed bytes, bad_signature for a signature that does not verify.
 */
export async function verifyEntry(
  signed: Uint8Array,
  sig: Uint8Array,
  verifier?: Ed25519Verifier,
): Promise<Entry> {
  const { entry, check } = prepareEntry(signed, sig);
  const { publicKey, signature, data } = check;
  const ok = verifier === undefined
    ? await verifyEd25519(publicKey, signature, data)
    : verifier.verifySync
    ? verifier.verifySync(publicKey, signature, data)
    : await verifier.verify(publicKey, signature, data);
  if (!ok) throw badSignature(entry.seq);
  return entry;
}
