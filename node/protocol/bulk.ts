/**
 * Bulk sync pages in binary (feature `bulk1`): `sync.push` params and
 * `mbox.get` results carry entries and boxes as their stored bytes, with no
 * base64, no JSON and no per-entry schema regex. A peer that does not list
 * `bulk1` gets the same pages as JSON (methods.ts), converted here, so a
 * handler and a caller are written once, against the decoded page.
 *
 * Layouts (SSH wire encoding, node/wire: uint32/uint64 big-endian, a
 * string is a uint32 length and its bytes), each the whole frame payload
 * after the frame's head (messages.ts):
 *
 *   sync.push params                    mbox.get result
 *   string  chat id ([a-z0-9-]{1,64})   string  gen (UTF-8, at most 64 bytes)
 *   uint32  count (1..1000)             byte    more (0 or 1)
 *   count × string signed entry bytes   uint32  count (0..1000)
 *           string SSHSIG blob          count × uint64 n (1..2^53-1)
 *                                               string box (1..MAX_BOX_BYTES)
 *
 * Every length is checked against its cap before anything is copied, each
 * entry's bytes must start with the entry magic and its signature with the
 * SSHSIG preamble, and no byte may be left over: any failure refuses the
 * whole page (bad_input), as a JSON page that fails its schema is. Entries
 * and boxes are copied out of the frame, so that keeping one does not keep
 * the whole frame's buffer alive.
 */
import { RojError } from "../errors.ts";
import { ENTRY_MAGIC } from "../identity/mod.ts";
import { MAX_BODY_BYTES } from "../log/mod.ts";
import { WireReader, WireWriter } from "../wire/mod.ts";
import { decodeB64, encodeB64, MAX_PUSH_ENTRIES, type ParamsOf, type ResultOf } from "./methods.ts";

/** Largest signed entry a bulk push carries (the entry decoder's own cap). */
export const MAX_BULK_SIGNED = MAX_BODY_BYTES + 1024;
/** Largest SSHSIG blob with an entry (the JSON schema's base64 of 2048 characters). */
export const MAX_BULK_SIG = 1536;
/** Largest box an mbox.get page carries (an entry of the largest body, sealed). */
export const MAX_BOX_BYTES = MAX_BODY_BYTES + 8 * 1024;
/** Most boxes in one mbox.get page (as in its JSON schema). */
export const MAX_PAGE_BOXES = 1000;

/** One entry as it travels and is stored: its signed bytes and its SSHSIG. */
export interface PageEntry {
  readonly signed: Uint8Array;
  readonly sig: Uint8Array;
}

/** A `sync.push` page, decoded. */
export interface PushPage {
  readonly chat: string;
  readonly entries: readonly PageEntry[];
}

/** An `mbox.get` page, decoded: boxes with their numbers. */
export interface MboxPage {
  readonly gen: string;
  readonly items: ReadonlyArray<{ readonly n: number; readonly b: Uint8Array }>;
  readonly more: boolean;
}

/** How each bulk method is called and answered: what the caller hands and what it gets. */
export interface BulkForms {
  "sync.push": { params: PushPage; result: ResultOf<"sync.push"> };
  "mbox.get": { params: ParamsOf<"mbox.get">; result: MboxPage };
}
export type BulkMethod = keyof BulkForms;

/** A page's two wire forms: binary (bulk1) and the JSON of methods.ts. */
export interface PageCodec<T, J> {
  encode(v: T): Uint8Array;
  /** @throws {RojError} bad_input for anything but the exact layout */
  decode(bytes: Uint8Array): T;
  toJson(v: T): J;
  /** From JSON already checked against its schema. @throws {RojError} bad_input */
  fromJson(j: J): T;
}

/** Which side of each bulk method travels in binary, and how. */
export const BULK_CODECS: {
  readonly "sync.push": { readonly params: PageCodec<PushPage, ParamsOf<"sync.push">> };
  readonly "mbox.get": { readonly result: PageCodec<MboxPage, ResultOf<"mbox.get">> };
} = {
  "sync.push": {
    params: {
      encode: encodePushPage,
      decode: decodePushPage,
      toJson: (p) => ({
        chat: p.chat,
        entries: p.entries.map((e) => ({ s: encodeB64(e.signed), g: encodeB64(e.sig) })),
      }),
      fromJson: (j) => ({
        chat: j.chat,
        entries: j.entries.map((w) => ({ signed: decodeB64(w.s), sig: decodeB64(w.g) })),
      }),
    },
  },
  "mbox.get": {
    result: {
      encode: encodeMboxPage,
      decode: decodeMboxPage,
      toJson: (p) => ({
        gen: p.gen,
        items: p.items.map((i) => ({ n: i.n, b: encodeB64(i.b) })),
        more: p.more,
      }),
      fromJson: (j) => ({
        gen: j.gen,
        items: j.items.map((i) => ({ n: i.n, b: decodeB64(i.b) })),
        more: j.more,
      }),
    },
  },
};

/** `string ENTRY_MAGIC` (its length, then its bytes), how every entry's signed bytes start (log/entry.ts). */
const ENTRY_HEAD = new WireWriter().string(ENTRY_MAGIC).bytes();
/** The SSHSIG blob's preamble. */
const SSHSIG_HEAD = new TextEncoder().encode("SSHSIG");
const CHAT_RE = /^[a-z0-9-]{1,64}$/;
const ascii = new TextDecoder("latin1");
const strict = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

function bad(what: string): RojError {
  return new RojError("bad_input", `bulk page: ${what}`);
}

function startsWith(b: Uint8Array, head: Uint8Array): boolean {
  if (b.length < head.length) return false;
  for (let i = 0; i < head.length; i++) if (b[i] !== head[i]) return false;
  return true;
}

/**
 * A length-prefixed string of 1..max bytes, copied out (with the Uint8Array
 * constructor: a Node Buffer's slice() would be a view of the frame).
 */
function sized(r: WireReader, max: number, what: string): Uint8Array {
  const n = r.u32();
  if (n === 0 || n > max) throw bad(`${what} of ${n} bytes (1 to ${max})`);
  return new Uint8Array(r.raw(n));
}

export function encodePushPage(p: PushPage): Uint8Array {
  const w = new WireWriter().string(p.chat).u32(p.entries.length);
  for (const e of p.entries) w.string(e.signed).string(e.sig);
  return w.bytes();
}

/** @throws {RojError} bad_input */
export function decodePushPage(bytes: Uint8Array): PushPage {
  const r = new WireReader(bytes, "bulk push page");
  const chatBytes = r.string();
  const chat = chatBytes.length <= 64 ? ascii.decode(chatBytes) : "";
  if (!CHAT_RE.test(chat)) throw bad("chat id is not one");
  const count = r.u32();
  if (count < 1 || count > MAX_PUSH_ENTRIES) {
    throw bad(`${count} entries (1 to ${MAX_PUSH_ENTRIES})`);
  }
  // Each entry takes at least its two lengths and heads: a count the bytes cannot hold is refused at once.
  if (count * (8 + ENTRY_HEAD.length + SSHSIG_HEAD.length) > r.remaining) {
    throw bad(`${count} entries in ${r.remaining} bytes`);
  }
  const entries = new Array<PageEntry>(count);
  for (let i = 0; i < count; i++) {
    const signed = sized(r, MAX_BULK_SIGNED, "entry");
    const sig = sized(r, MAX_BULK_SIG, "signature");
    if (!startsWith(signed, ENTRY_HEAD)) throw bad(`entry ${i} is not a roj entry`);
    if (!startsWith(sig, SSHSIG_HEAD)) throw bad(`entry ${i}'s signature is not an SSHSIG`);
    entries[i] = { signed, sig };
  }
  r.end();
  return { chat, entries };
}

export function encodeMboxPage(p: MboxPage): Uint8Array {
  const w = new WireWriter().string(encoder.encode(p.gen)).u8(p.more ? 1 : 0).u32(p.items.length);
  for (const i of p.items) w.u64(i.n).string(i.b);
  return w.bytes();
}

/** @throws {RojError} bad_input */
export function decodeMboxPage(bytes: Uint8Array): MboxPage {
  const r = new WireReader(bytes, "bulk mailbox page");
  const genBytes = r.string();
  if (genBytes.length > 64) throw bad("gen is over 64 bytes");
  let gen: string;
  try {
    gen = strict.decode(genBytes);
  } catch {
    throw bad("gen is not UTF-8");
  }
  const more = r.u8();
  if (more > 1) throw bad("more is not 0 or 1");
  const count = r.u32();
  if (count > MAX_PAGE_BOXES) throw bad(`${count} boxes (at most ${MAX_PAGE_BOXES})`);
  if (count * 13 > r.remaining) throw bad(`${count} boxes in ${r.remaining} bytes`);
  const items = new Array<{ n: number; b: Uint8Array }>(count);
  for (let i = 0; i < count; i++) {
    const n = r.u64();
    if (n < 1n || n > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`box number ${n}`);
    items[i] = { n: Number(n), b: sized(r, MAX_BOX_BYTES, "box") };
  }
  r.end();
  return { gen, items, more: more === 1 };
}
