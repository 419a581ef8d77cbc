/**
 * An entry is stored as one Deno KV value (at most 65,536 bytes), so the body
 * limit must leave room for everything else. With a 64 KiB limit a body over
 * ~65,100 bytes passed every check and failed in the store as an internal
 * error (found by tests/hostile_fuzz_test.ts).
 */
import assert from "node:assert/strict";
import {
  createSigner,
  ENTRY_MAGIC,
  generateKeyPair,
  NAMESPACES,
  signSshsig,
} from "../identity/mod.ts";
import { WireWriter } from "../wire/mod.ts";
import { tempStore } from "../../testing/temp.ts";
import { ChatLog, createEntry, MAX_BODY_BYTES } from "./mod.ts";
import { MAX_SIG_BYTES } from "./entry.ts";
import { packEntry } from "./stored_entry.ts";

const KV_VALUE_BYTES = 65_536;
/** The longest chat id and type there are. */
const CHAT = "c".repeat(64);
const TYPE = "t".repeat(32);

/** A body of exactly `n` bytes of UTF-8, mostly three-byte characters. */
const bodyOf = (n: number) => "€".repeat(Math.floor(n / 3)) + "a".repeat(n % 3);

Deno.test("the largest entry, with a signature of the largest size taken, fits one store value and is stored", async () => {
  await using t = await tempStore();
  const signer = await createSigner(await generateKeyPair("a"));
  const e = await createEntry(signer, {
    chat: CHAT,
    author: signer.publicKey,
    seq: 1,
    prev: null,
    lamport: 1,
    ts: Date.now(),
    type: TYPE,
    body: bodyOf(MAX_BODY_BYTES),
  });
  assert.ok(
    packEntry(e.signed, new Uint8Array(MAX_SIG_BYTES)).length <= KV_VALUE_BYTES,
    `${e.signed.length} signed bytes and a ${MAX_SIG_BYTES}-byte signature do not fit`,
  );
  const r = await new ChatLog(t.store).merge(CHAT, [{ signed: e.signed, sig: e.sig }]);
  assert.equal(r.stored.length, 1);
});

Deno.test("an entry whose body is over the limit is refused with a reason, not stored", async () => {
  await using t = await tempStore();
  const signer = await createSigner(await generateKeyPair("a"));
  const chat = "d-chat";
  // Written by hand: createEntry refuses such a body.
  const signed = new WireWriter()
    .string(ENTRY_MAGIC)
    .string(chat)
    .string(new WireWriter().string("ssh-ed25519").string(signer.publicKey).bytes())
    .u64(1)
    .string(new Uint8Array(0))
    .u64(1)
    .u64(Date.now())
    .string("msg")
    .string(bodyOf(MAX_BODY_BYTES + 1))
    .bytes();
  const sig = await signSshsig(signer, NAMESPACES.entry, signed);
  const log = new ChatLog(t.store);
  const r = await log.merge(chat, [{ signed, sig }]);
  assert.deepEqual(r.stored, []);
  assert.deepEqual(r.rejected.map((x) => x.code), ["bad_input"]);
  assert.deepEqual(await log.read(chat), []);
});
