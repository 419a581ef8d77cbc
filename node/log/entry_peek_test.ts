import assert from "node:assert/strict";
import { createSigner, generateKeyPair } from "../identity/mod.ts";
import { createEntry, hasType } from "./mod.ts";

Deno.test("hasType reads an entry's type from its place, first entry or later, and nothing from garbage", async () => {
  const signer = await createSigner(await generateKeyPair("alice"));
  const fields = {
    chat: "d-abc",
    author: signer.publicKey,
    lamport: 1,
    ts: 1,
    body: "a file, or not",
  };
  const first = await createEntry(signer, { ...fields, seq: 1, prev: null, type: "file" });
  const second = await createEntry(signer, { ...fields, seq: 2, prev: first.hash, type: "msg" });
  assert.equal(hasType(first.signed, "file"), true);
  assert.equal(hasType(first.signed, "fil"), false);
  assert.equal(hasType(first.signed, "files"), false);
  assert.equal(hasType(second.signed, "msg"), true, "after a 32-byte prev");
  assert.equal(hasType(second.signed, "file"), false);
  for (let n = 0; n < first.signed.length - first.body.length - 4; n += 7) {
    assert.equal(hasType(first.signed.subarray(0, n), "file"), false, `cut at ${n}`);
  }
  assert.equal(hasType(new Uint8Array([0xff, 0xff, 0xff, 0xff]), "file"), false);
});
