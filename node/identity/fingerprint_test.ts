import assert from "node:assert/strict";
import { HAS_SSH_KEYGEN, sshKeygenOk, withTempDir } from "../../testing/ssh_keygen.ts";
import { generateKeyPair, publicKeyLine } from "./keys.ts";
import { fingerprint, fingerprintLine } from "./fingerprint.ts";

Deno.test("fingerprint of a fixed key", () => {
  // RFC 8032 test 1 public key; value checked with `ssh-keygen -lf`.
  const pub = Uint8Array.from(
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a".match(/../g)!,
    (h) => parseInt(h, 16),
  );
  assert.equal(fingerprint(pub), GOLDEN_FP);
  assert.equal(fingerprintLine(pub, "rfc"), `256 ${GOLDEN_FP} rfc (ED25519)`);
});

Deno.test("fingerprint: asked again (kept), the same; a key of the wrong length still throws", async () => {
  const keys = await Promise.all(Array.from({ length: 3000 }, (_, i) => generateKeyPair(`k${i}`)));
  const first = keys.map((k) => fingerprint(k.publicKey)); // more than are kept: some dropped
  assert.deepEqual(keys.map((k) => fingerprint(k.publicKey)), first);
  assert.equal(new Set(first).size, keys.length);
  const pub = keys[0]!.publicKey;
  assert.throws(() => fingerprint(pub.subarray(1)), RangeError);
  assert.throws(() => fingerprint(new Uint8Array([...pub, 0])), RangeError);
});

Deno.test("fingerprintLine equals ssh-keygen -lf", { ignore: !HAS_SSH_KEYGEN }, async () => {
  await withTempDir(async (dir) => {
    for (const comment of ["alice@laptop", "two words", ""]) {
      const kp = await generateKeyPair(comment);
      const path = `${dir}/key.pub`;
      await Deno.writeTextFile(path, publicKeyLine(kp.publicKey, comment) + "\n");
      const out = await sshKeygenOk(["-lf", path]);
      assert.equal(out, fingerprintLine(kp.publicKey, comment) + "\n");
    }
  });
});

const GOLDEN_FP = "SHA256:bbXpuKG6zhzdmnxq256TlqzFBzRl2f6OOg722cYNbU8";
