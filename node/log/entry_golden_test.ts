/** The canonical bytes, SSHSIG and hash of entries never change: fixed key, fixed fields. */
import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { createSigner, createVerifier } from "../identity/mod.ts";
import {
  createEntry,
  decodeEntry,
  encodeEntry,
  type EntryFields,
  toHex,
  verifyEntry,
} from "./mod.ts";

const seed = new Uint8Array(32).map((_, i) => i);
const author = ed25519.getPublicKey(seed);

function fields(i: number, prev: Uint8Array | null): EntryFields {
  const bodies = ["", "hello", "héllo wörld 👋🏽", "中文 \ud800 lone", "x".repeat(3000)];
  return {
    chat: i % 2 ? "d-abc234" : "n-" + "z".repeat(32),
    author,
    seq: i + 1,
    prev,
    lamport: 1000 * (i + 1),
    ts: i === 3 ? Number.MAX_SAFE_INTEGER : 1_700_000_000_000 + i,
    type: i % 2 ? "msg" : "x.y_z-9",
    body: bodies[i]!,
  };
}

Deno.test("entry bytes, signatures and hashes are stable (golden)", async () => {
  const signer = await createSigner({ seed, publicKey: author, comment: "golden" });
  const all = new Uint8Array(
    await (async () => {
      const parts: number[] = [];
      let prev: Uint8Array | null = null;
      for (let i = 0; i < 5; i++) {
        const e = await createEntry(signer, fields(i, prev));
        assert.deepEqual(encodeEntry(e), e.signed);
        // Text goes through UTF-8: a lone surrogate comes back as U+FFFD.
        const f = fields(i, prev);
        const body = new TextDecoder().decode(new TextEncoder().encode(f.body));
        assert.deepEqual(decodeEntry(e.signed), { ...f, body });
        assert.equal((await verifyEntry(e.signed, e.sig, createVerifier())).body, body);
        parts.push(...e.signed, ...e.sig, ...e.hash);
        prev = e.hash;
      }
      return parts;
    })(),
  );
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  assert.equal(toHex(digest), GOLDEN);
});

const GOLDEN = "ff222a4f48e2acfe6de7481d1b04318d748a9255a3c95804a8d0ef76acf96882";
