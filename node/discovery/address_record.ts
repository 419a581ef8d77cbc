/**
 * Address records: where a person's node can be reached right now, signed by
 * that person (SSHSIG namespace "roj-addr"). A higher seq replaces a lower one.
 *
 *   record = string  "roj-addr-v1" (no relays) or "roj-addr-v2"
 *            string  owner public key blob
 *            uint64  seq
 *            uint64  time (ms since the epoch)
 *            uint32  address count (1..8), then that many strings "host:port"
 *            v2 only: uint32 relay count (1..4), then that many strings, each
 *            a raw 32-byte ed25519 key of a peer that relays for the owner
 *   packed = string record, string sshsig
 *
 * Versions: v1 is unchanged, so a record without relays stays readable by
 * nodes that predate relays; v2 (a different magic, so a v1 reader refuses it
 * as malformed instead of misreading it) is signed only when the owner is not
 * reachable from outside and names who can relay to it (node/relay).
 */
import { RojError } from "../errors.ts";
import {
  ADDR_RECORD_MAGIC,
  ADDR_RECORD_RELAYS_MAGIC,
  NAMESPACES,
  parsePublicKeyBlob,
  publicKeyBlob,
  type Signer,
  signSshsig,
  type Verifier,
  verifySshsig,
} from "../identity/mod.ts";
import { parseEndpoint } from "../transport/mod.ts";
import { bytesEqual, WireReader, WireWriter } from "../wire/mod.ts";

const MAGIC = ADDR_RECORD_MAGIC;
const MAGIC_RELAYS = ADDR_RECORD_RELAYS_MAGIC;
export const MAX_RECORD_ADDRESSES = 8;
/** Most relays one record names. */
export const MAX_RECORD_RELAYS = 4;
/** Largest packed record accepted. */
export const MAX_PACKED_RECORD = 1200;

export interface AddressRecord {
  readonly owner: Uint8Array;
  readonly seq: number;
  readonly time: number;
  readonly addresses: string[];
  /** Keys of peers that relay for the owner, who cannot be dialled from outside; absent when reachable. */
  readonly relays?: Uint8Array[];
}

export interface SignedRecord extends AddressRecord {
  /** record bytes and signature, as sent and stored. */
  readonly packed: Uint8Array;
}

function checkAddresses(addresses: string[]): void {
  if (addresses.length < 1 || addresses.length > MAX_RECORD_ADDRESSES) {
    throw new RojError(
      "bad_input",
      `an address record holds 1 to ${MAX_RECORD_ADDRESSES} addresses, not ${addresses.length}`,
    );
  }
  for (const a of addresses) parseEndpoint(a);
}

/** Signs a record. @throws {RojError} bad_input for addresses that are not host:port. */
export async function signRecord(
  signer: Signer,
  r: Omit<AddressRecord, "owner">,
): Promise<SignedRecord> {
  checkAddresses(r.addresses);
  const relays = r.relays ?? [];
  if (relays.length > MAX_RECORD_RELAYS || relays.some((k) => k.length !== 32)) {
    throw new RangeError(`an address record names at most ${MAX_RECORD_RELAYS} relay keys`);
  }
  const w = new WireWriter().string(relays.length > 0 ? MAGIC_RELAYS : MAGIC).string(
    publicKeyBlob(signer.publicKey),
  ).u64(r.seq).u64(r.time).u32(r.addresses.length);
  for (const a of r.addresses) w.string(a);
  if (relays.length > 0) {
    w.u32(relays.length);
    for (const k of relays) w.string(k);
  }
  const bytes = w.bytes();
  const sig = await signSshsig(signer, NAMESPACES.addr, bytes);
  const packed = new WireWriter().string(bytes).string(sig).bytes();
  const { relays: _, ...rest } = r;
  return { owner: signer.publicKey, ...rest, ...(relays.length > 0 ? { relays } : {}), packed };
}

/**
 * Checks a packed record: well formed, signed by its owner, and (if given) by
 * `expectedOwner`; `verifier` checks the signature (a cached one on hot paths).
 * @throws {RojError} bad_input (malformed), bad_signature, refused (someone else's record)
 */
export async function openRecord(
  packed: Uint8Array,
  expectedOwner?: Uint8Array,
  verifier?: Verifier,
): Promise<SignedRecord> {
  if (packed.length > MAX_PACKED_RECORD) {
    throw new RojError("bad_input", "address record is too large");
  }
  let bytes: Uint8Array, sig: Uint8Array, rec: AddressRecord;
  try {
    const outer = new WireReader(packed, "address record");
    bytes = outer.string();
    sig = outer.string();
    outer.end();
    const r = new WireReader(bytes, "address record");
    const magic = r.text();
    if (magic !== MAGIC && magic !== MAGIC_RELAYS) throw new Error("magic");
    const owner = parsePublicKeyBlob(r.string()).slice();
    const seq = Number(r.u64());
    const time = Number(r.u64());
    const n = r.u32();
    if (n > MAX_RECORD_ADDRESSES) throw new Error("count");
    const addresses: string[] = [];
    for (let i = 0; i < n; i++) addresses.push(r.text());
    const relays: Uint8Array[] = [];
    if (magic === MAGIC_RELAYS) {
      const m = r.u32();
      if (m < 1 || m > MAX_RECORD_RELAYS) throw new Error("relay count");
      for (let i = 0; i < m; i++) {
        const k = r.string();
        if (k.length !== 32) throw new Error("relay key");
        relays.push(k.slice());
      }
    }
    r.end();
    if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(time)) throw new Error("range");
    checkAddresses(addresses);
    rec = { owner, seq, time, addresses, ...(relays.length > 0 ? { relays } : {}) };
  } catch (err) {
    throw new RojError("bad_input", "address record is malformed", { cause: err });
  }
  if (expectedOwner && !bytesEqual(expectedOwner, rec.owner)) {
    throw new RojError("refused", "address record belongs to someone else");
  }
  const opts = verifier ? { publicKey: rec.owner, verifier } : { publicKey: rec.owner };
  if (!await verifySshsig(sig, NAMESPACES.addr, bytes, opts)) {
    throw new RojError("bad_signature", "address record has a bad signature");
  }
  return { ...rec, packed: packed.slice() };
}
