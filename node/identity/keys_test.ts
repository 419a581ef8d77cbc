import assert from "node:assert/strict";
import { isRojError } from "../errors.ts";
import {
  generateKeyPair,
  parsePublicKeyBlob,
  parsePublicKeyLine,
  publicKeyBlob,
  publicKeyLine,
} from "./keys.ts";

const PUB = new Uint8Array(32).map((_, i) => i);

Deno.test("generateKeyPair gives a 32-byte key and seed and keeps the comment", async () => {
  const a = await generateKeyPair("alice@laptop");
  const b = await generateKeyPair("");
  assert.equal(a.publicKey.length, 32);
  assert.equal(a.seed.length, 32);
  assert.equal(a.comment, "alice@laptop");
  assert.notDeepEqual(a.publicKey, b.publicKey);
});

Deno.test("publicKeyBlob is string ssh-ed25519, string key", () => {
  const blob = publicKeyBlob(PUB);
  assert.equal(blob.length, 4 + 11 + 4 + 32);
  assert.deepEqual(blob.subarray(0, 15), new TextEncoder().encode("\0\0\0\x0bssh-ed25519"));
  assert.deepEqual(parsePublicKeyBlob(blob), PUB);
  assert.throws(() => publicKeyBlob(new Uint8Array(31)), RangeError);
});

Deno.test("parsePublicKeyBlob refuses truncated, trailing and foreign blobs", () => {
  const blob = publicKeyBlob(PUB);
  for (
    const bad of [
      blob.subarray(0, 40),
      new Uint8Array([...blob, 0]),
      new Uint8Array(0),
      new TextEncoder().encode("\0\0\0\x07ssh-rsa\0\0\0\x01\x01"),
    ]
  ) {
    assert.throws(() => parsePublicKeyBlob(bad), (e) => isRojError(e, "bad_input"));
  }
});

Deno.test("publicKeyLine round-trips, with and without a comment", () => {
  const line = publicKeyLine(PUB, "alice at home");
  assert.match(line, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI\S+ alice at home$/);
  assert.deepEqual(parsePublicKeyLine(line), { publicKey: PUB, comment: "alice at home" });
  const bare = publicKeyLine(PUB);
  assert.ok(!bare.endsWith(" "));
  assert.deepEqual(parsePublicKeyLine(`  ${bare}\r\n`), { publicKey: PUB, comment: "" });
});

Deno.test("parsePublicKeyLine refuses junk", () => {
  const good = publicKeyLine(PUB).split(" ")[1]!;
  for (
    const bad of [
      "",
      "ssh-ed25519",
      "hello world",
      `ssh-rsa ${good}`,
      "ssh-ed25519 !!!notbase64",
      `ssh-ed25519 ${good.slice(0, 20)}`,
    ]
  ) {
    assert.throws(() => parsePublicKeyLine(bad), (e) => isRojError(e, "bad_input"), bad);
  }
});
