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
import { sha256 } from "@noble/hashes/sha2.js";
import { RojError } from "../errors.ts";
import { WireReader, WireWriter } from "../wire/mod.ts";
import {
  NAMESPACES,
  parsePublicKeyBlob,
  publicKeyBlob,
  type Signer,
  signSshsig,
  verifySshsig,
} from "../identity/mod.ts";

const MAGIC = "roj-entry-v1";
/** Largest body an entry may carry, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Largest SSHSIG blob accepted with an entry. */
export const MAX_SIG_BYTES = 1024;
const CHAT_RE = /^[a-z0-9-]{1,64}$/;
const TYPE_RE = /^[a-z0-9._-]{1,32}$/;
const encoder = new TextEncoder();

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

/** The canonical bytes of an entry. @throws {RojError} bad_input for fields out of range. */
export function encodeEntry(f: EntryFields): Uint8Array {
  checkFields(f);
  const body = encoder.encode(f.body);
  if (body.length > MAX_BODY_BYTES) {
    throw new RojError(
      "bad_input",
      `message is ${body.length} bytes; the limit is ${MAX_BODY_BYTES}`,
    );
  }
  return new WireWriter()
    .string(MAGIC)
    .string(f.chat)
    .string(publicKeyBlob(f.author))
    .u64(f.seq)
    .string(f.prev ?? new Uint8Array(0))
    .u64(f.lamport)
    .u64(f.ts)
    .string(f.type)
    .string(body)
    .bytes();
}

function safeNumber(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RojError("bad_input", `entry ${what} is too large`);
  }
  return Number(v);
}

/** Parses and range-checks canonical bytes. @throws {RojError} bad_input. */
export function decodeEntry(signed: Uint8Array): EntryFields {
  if (signed.length > MAX_BODY_BYTES + 1024) throw new RojError("bad_input", "entry is too large");
  const r = new WireReader(signed, "entry");
  if (r.text() !== MAGIC) throw new RojError("bad_input", "entry has an unknown format");
  const chat = r.text();
  const author = parsePublicKeyBlob(r.string());
  const seq = safeNumber(r.u64(), "seq");
  const prevBytes = r.string();
  const lamport = safeNumber(r.u64(), "lamport");
  const ts = safeNumber(r.u64(), "timestamp");
  const type = r.text();
  const body = r.text();
  r.end();
  const fields: EntryFields = {
    chat,
    author: author.slice(),
    seq,
    prev: prevBytes.length === 0 ? null : prevBytes.slice(),
    lamport,
    ts,
    type,
    body,
  };
  checkFields(fields);
  return fields;
}

/** Signs new fields with the author's key. The signer must be the author. */
export async function createEntry(signer: Signer, fields: EntryFields): Promise<Entry> {
  const signed = encodeEntry(fields);
  const sig = await signSshsig(signer, NAMESPACES.entry, signed);
  return { ...fields, signed, sig, hash: sha256(signed) };
}

/** Something that verifies raw Ed25519 signatures, e.g. identity's createVerifier(). */
export interface Ed25519Verifier {
  verify(pub: Uint8Array, sig: Uint8Array, data: Uint8Array): Promise<boolean>;
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
  const fields = decodeEntry(signed);
  if (sig.length > MAX_SIG_BYTES) {
    throw new RojError("bad_signature", "entry signature is too large");
  }
  const ok = await verifySshsig(
    sig,
    NAMESPACES.entry,
    signed,
    verifier ? { publicKey: fields.author, verifier } : { publicKey: fields.author },
  );
  if (!ok) {
    throw new RojError("bad_signature", `entry ${fields.seq} of its author has a bad signature`);
  }
  return { ...fields, signed, sig, hash: sha256(signed) };
}
