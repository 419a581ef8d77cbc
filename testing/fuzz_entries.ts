/**
 * Signed entries with one thing wrong, for fuzz tests: each carries a good
 * SSHSIG by its author (unless the signature is what is wrong), so only the
 * receiver's checks of the content stand between it and the store. The
 * canonical layout is log/entry.ts's, written here field by field so that a
 * field can be out of range, which encodeEntry would refuse to write.
 */
import { ENTRY_MAGIC, NAMESPACES, type Signer, signSshsig } from "../node/identity/mod.ts";
import { MAX_BODY_BYTES, MAX_LAMPORT_JUMP } from "../node/log/mod.ts";
import { WireWriter } from "../node/wire/mod.ts";
import type { Fuzz } from "./fuzz.ts";

/** The author's last entry in the chat (seq 0 and no hash before the first), and the chat's clock. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: Uint8Array | null;
  readonly clock: number;
}

interface Parts {
  magic: string;
  chat: string;
  keyType: string;
  author: Uint8Array;
  seq: bigint;
  prev: Uint8Array;
  lamport: bigint;
  ts: bigint;
  type: string;
  body: Uint8Array;
  tail: Uint8Array;
}

function canonical(p: Parts): Uint8Array {
  const blob = new WireWriter().string(p.keyType).string(p.author).bytes();
  return new WireWriter()
    .string(p.magic)
    .string(p.chat)
    .string(blob)
    .u64(p.seq)
    .string(p.prev)
    .u64(p.lamport)
    .u64(p.ts)
    .string(p.type)
    .string(p.body)
    .raw(p.tail)
    .bytes();
}

const U64_MAX = 2n ** 64n - 1n;

/**
 * The entry after `head` by `author` in `chat`, with one field (or its
 * signature) broken so that no receiver may store it.
 */
export async function brokenEntry(
  f: Fuzz,
  signer: Signer,
  author: Uint8Array,
  chat: string,
  head: ChainHead,
): Promise<{ label: string; signed: Uint8Array; sig: Uint8Array }> {
  const p: Parts = {
    magic: ENTRY_MAGIC,
    chat,
    keyType: "ssh-ed25519",
    author,
    seq: BigInt(head.seq + 1),
    prev: head.hash ?? new Uint8Array(0),
    lamport: BigInt(head.clock + 1),
    ts: BigInt(Date.now()),
    type: "msg",
    body: new TextEncoder().encode("broken"),
    tail: new Uint8Array(0),
  };
  const breaks: Record<string, () => void> = {
    "magic": () => (p.magic = f.pick(["roj-entry-v2", "", "roj-entry-v1\u0000"])),
    "another chat": () => (p.chat = f.pick(["notes", "d-" + "a".repeat(62), "x"])),
    "chat id": () => (p.chat = f.pick(["", "Mallory!", "a".repeat(65), "é"])),
    "key type": () => (p.keyType = f.pick(["ssh-rsa", "", "ssh-ed25519 "])),
    "author": () => (p.author = f.bytes(f.pick([32, 31, 33, 0]))),
    "seq 0": () => (p.seq = 0n),
    "seq gap": () => (p.seq = BigInt(head.seq + f.int(2, 1000))),
    "seq 2^53": () => (p.seq = f.pick([2n ** 53n, U64_MAX])),
    // Not the author's last hash: none before a first entry, another or a malformed one after.
    "prev": () => (p.prev = f.bytes(f.pick(head.seq === 0 ? [32, 31, 64] : [32, 31, 0, 64]))),
    "lamport 0": () => (p.lamport = 0n),
    "lamport jump":
      () => (p.lamport = f.pick([BigInt(head.clock + MAX_LAMPORT_JUMP + f.int(1, 1000)), U64_MAX])),
    "ts": () => (p.ts = f.pick([2n ** 53n, U64_MAX])),
    "type": () => (p.type = f.pick(["", "MSG", "t".repeat(33), "a b", "msg\n"])),
    "body not UTF-8": () => (p.body = new Uint8Array([0x61, 0xff, 0xc0, 0x80])),
    "body over the limit": () => (p.body = new Uint8Array(MAX_BODY_BYTES + 1).fill(0x61)),
    "trailing bytes": () => (p.tail = f.bytes(f.int(1, 64))),
  };
  const sigBreaks = ["signature bit", "signature namespace", "truncated"];
  const label = f.pick([...Object.keys(breaks), ...sigBreaks]);
  breaks[label]?.();
  let signed = canonical(p);
  if (label === "truncated") signed = signed.subarray(0, f.int(0, signed.length - 1));
  let sig = await signSshsig(
    signer,
    label === "signature namespace"
      ? f.pick([NAMESPACES.addr, NAMESPACES.invite])
      : NAMESPACES.entry,
    signed,
  );
  if (label === "signature bit") {
    sig = sig.slice();
    sig[f.int(sig.length - 64, sig.length - 1)]! ^= 1 << f.int(0, 7);
  }
  return { label, signed, sig };
}
