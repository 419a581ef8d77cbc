import assert from "node:assert/strict";
import { isRojError, type RojErrorCode } from "../errors.ts";
import {
  HAS_SSH_KEYGEN,
  sshKeygenOk,
  withTempDir,
  writeKeyFile,
} from "../../testing/ssh_keygen.ts";
import { generateKeyPair, type KeyPair, parsePublicKeyLine, publicKeyLine } from "./keys.ts";
import { decodePrivateKey, encodePrivateKey, isEncryptedPrivateKey } from "./private_key.ts";

const interop = { ignore: !HAS_SSH_KEYGEN, sanitizeResources: true };

function rejectsWith(code: RojErrorCode) {
  return (e: unknown) => isRojError(e, code) && !e.message.includes("\n");
}

Deno.test("unencrypted private key round-trips", async () => {
  const kp = await generateKeyPair("alice@laptop");
  const text = await encodePrivateKey(kp);
  assert.match(text, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
  assert.match(text, /\n-----END OPENSSH PRIVATE KEY-----\n$/);
  for (const line of text.split("\n").slice(1, -2)) assert.ok(line.length <= 70);
  assert.equal(isEncryptedPrivateKey(text), false);
  assert.deepEqual(await decodePrivateKey(text), kp);
  assert.deepEqual(await decodePrivateKey(text, "ignored"), kp);
});

Deno.test("encrypted private key round-trips and checks the passphrase", async () => {
  const kp = await generateKeyPair("");
  const text = await encodePrivateKey(kp, { passphrase: "secret", rounds: 2 });
  assert.equal(isEncryptedPrivateKey(text), true);
  assert.deepEqual(await decodePrivateKey(text, "secret"), kp);
  await assert.rejects(decodePrivateKey(text), rejectsWith("key_passphrase_required"));
  await assert.rejects(decodePrivateKey(text, ""), rejectsWith("key_passphrase_required"));
  await assert.rejects(decodePrivateKey(text, "Secret"), rejectsWith("key_bad_passphrase"));
});

Deno.test("an empty passphrase writes an unencrypted key", async () => {
  const kp = await generateKeyPair("x");
  assert.equal(isEncryptedPrivateKey(await encodePrivateKey(kp, { passphrase: "" })), false);
});

Deno.test("malformed private keys are key_malformed, never a crash", async () => {
  const kp = await generateKeyPair("x");
  const text = await encodePrivateKey(kp);
  const body = text.split("\n").slice(1, -2).join("");
  const rewrap = (b64: string) =>
    `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`;
  const bytes = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  const flipped = bytes.slice();
  flipped[bytes.length - 40]! ^= 1; // inside the seed: no longer matches the public key
  const cases = [
    "",
    "hello",
    text.slice(0, text.length / 2),
    rewrap(body.slice(0, 100)),
    rewrap("!!!!"),
    rewrap(btoa("openssh-key-v1\0")),
    rewrap(btoa(String.fromCharCode(...bytes.subarray(0, bytes.length - 8)))),
    rewrap(btoa(String.fromCharCode(...flipped))),
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
  ];
  for (const bad of cases) {
    await assert.rejects(decodePrivateKey(bad, "pw"), rejectsWith("key_malformed"), bad);
    assert.equal(isEncryptedPrivateKey(bad), false);
  }
});

Deno.test("OpenSSH-made keys decode to the key ssh-keygen -y prints", interop, async () => {
  await withTempDir(async (dir) => {
    for (const pass of ["", "secret"]) {
      const path = `${dir}/id_${pass || "plain"}`;
      await sshKeygenOk(["-q", "-t", "ed25519", "-a", "4", "-N", pass, "-C", "x", "-f", path]);
      const expected = parsePublicKeyLine(await sshKeygenOk(["-y", "-P", pass, "-f", path]));
      const text = await Deno.readTextFile(path);
      assert.equal(isEncryptedPrivateKey(text), pass !== "");
      const kp = await decodePrivateKey(text, pass || undefined);
      assert.deepEqual(kp.publicKey, expected.publicKey);
      assert.equal(kp.comment, "x");
    }
  });
});

Deno.test("aes256-gcm@openssh.com keys decode", interop, async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/id_gcm`;
    await sshKeygenOk([
      "-q",
      "-t",
      "ed25519",
      "-a",
      "2",
      "-Z",
      "aes256-gcm@openssh.com",
      "-N",
      "pw",
      "-C",
      "g",
      "-f",
      path,
    ]);
    const text = await Deno.readTextFile(path);
    const expected = parsePublicKeyLine(await sshKeygenOk(["-y", "-P", "pw", "-f", path]));
    assert.deepEqual((await decodePrivateKey(text, "pw")).publicKey, expected.publicKey);
    await assert.rejects(decodePrivateKey(text, "nope"), rejectsWith("key_bad_passphrase"));
  });
});

Deno.test("unsupported ciphers get a clear key_malformed", interop, async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/id_chacha`;
    await sshKeygenOk([
      "-q",
      "-t",
      "ed25519",
      "-a",
      "2",
      "-Z",
      "chacha20-poly1305@openssh.com",
      "-N",
      "pw",
      "-f",
      path,
    ]);
    await assert.rejects(
      decodePrivateKey(await Deno.readTextFile(path), "pw"),
      (e) => isRojError(e, "key_malformed") && e.message.includes("chacha20-poly1305@openssh.com"),
    );
  });
});

Deno.test("non-ed25519 OpenSSH keys are key_malformed", interop, async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/id_ecdsa`;
    await sshKeygenOk(["-q", "-t", "ecdsa", "-N", "", "-f", path]);
    await assert.rejects(
      decodePrivateKey(await Deno.readTextFile(path)),
      (e) => rejectsWith("key_malformed")(e) && /ed25519/.test((e as Error).message),
    );
  });
});

Deno.test("keys Roj writes are read by ssh-keygen -y", interop, async () => {
  await withTempDir(async (dir) => {
    const kp: KeyPair = await generateKeyPair("roj@test");
    const cases: [string, string][] = [["", await encodePrivateKey(kp)], [
      "secret",
      await encodePrivateKey(kp, { passphrase: "secret" }), // default 16 rounds
    ]];
    for (const [pass, text] of cases) {
      const path = `${dir}/id_${pass || "plain"}`;
      await writeKeyFile(path, text);
      const line = await sshKeygenOk(["-y", "-P", pass, "-f", path]);
      assert.equal(line.trim(), publicKeyLine(kp.publicKey, "roj@test"));
    }
  });
});
