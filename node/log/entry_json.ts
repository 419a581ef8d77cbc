/**
 * The export format: one JSON object per line, the entry's fields for people
 * and tools, plus `signed` (base64 of the exact signed bytes) and `sig` (the
 * armored SSHSIG). Only `signed` and `sig` are trusted on import; the other
 * fields must agree with them.
 */
import { z } from "zod";
import { base64 } from "@scure/base";
import { RojError } from "../errors.ts";
import { armorSshsig, dearmorSshsig, parsePublicKeyLine, publicKeyLine } from "../identity/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { type Ed25519Verifier, type Entry, MAX_BODY_BYTES, verifyEntry } from "./entry.ts";

/** Longest export line accepted, in characters. */
export const MAX_ENTRY_LINE = 4 * MAX_BODY_BYTES + 4096;

export interface EntryJson {
  chat: string;
  author: string;
  seq: number;
  prev: string | null;
  lamport: number;
  ts: number;
  type: string;
  body: string;
  hash: string;
  signed: string;
  sig: string;
}

export function entryToJson(e: Entry): EntryJson {
  return {
    chat: e.chat,
    author: publicKeyLine(e.author),
    seq: e.seq,
    prev: e.prev ? toHex(e.prev) : null,
    lamport: e.lamport,
    ts: e.ts,
    type: e.type,
    body: e.body,
    hash: toHex(e.hash),
    signed: base64.encode(e.signed),
    sig: armorSshsig(e.sig),
  };
}

const EntryLineSchema = z.object({
  chat: z.string().max(64).optional(),
  author: z.string().max(200).optional(),
  seq: z.number().int().optional(),
  prev: z.string().max(64).nullable().optional(),
  lamport: z.number().int().optional(),
  ts: z.number().int().optional(),
  type: z.string().max(32).optional(),
  body: z.string().max(MAX_BODY_BYTES).optional(),
  hash: z.string().max(64).optional(),
  signed: z.string().min(1).max(2 * MAX_BODY_BYTES),
  sig: z.string().min(1).max(2048),
});

/**
 * Parses one export line and verifies it.
 * @throws {RojError} bad_input when the line is not an entry or its fields disagree with `signed`; bad_signature.
 */
export async function entryFromLine(line: string, verifier?: Ed25519Verifier): Promise<Entry> {
  if (line.length > MAX_ENTRY_LINE) throw new RojError("bad_input", "entry line is too long");
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new RojError("bad_input", "entry line is not JSON", { cause: err });
  }
  const parsed = EntryLineSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RojError(
      "bad_input",
      `entry line is invalid: ${issue?.path.join(".") || "line"}: ${issue?.message ?? "bad shape"}`,
      { cause: parsed.error },
    );
  }
  const j = parsed.data;
  let signed: Uint8Array;
  try {
    signed = base64.decode(j.signed);
  } catch (err) {
    throw new RojError("bad_input", "entry line: `signed` is not base64", { cause: err });
  }
  const entry = await verifyEntry(signed, dearmorSshsig(j.sig), verifier);
  const disagree = (j.chat !== undefined && j.chat !== entry.chat) ||
    (j.seq !== undefined && j.seq !== entry.seq) ||
    (j.lamport !== undefined && j.lamport !== entry.lamport) ||
    (j.ts !== undefined && j.ts !== entry.ts) ||
    (j.type !== undefined && j.type !== entry.type) ||
    (j.body !== undefined && j.body !== entry.body) ||
    (j.hash !== undefined && j.hash !== toHex(entry.hash)) ||
    (j.prev !== undefined && j.prev !== (entry.prev ? toHex(entry.prev) : null)) ||
    (j.author !== undefined && !bytesEqual(parsePublicKeyLine(j.author).publicKey, entry.author));
  if (disagree) {
    throw new RojError("bad_input", "entry line: its fields disagree with its signed bytes");
  }
  return entry;
}

export { toHex };
