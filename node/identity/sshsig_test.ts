import assert from "node:assert/strict";
import { isRojError } from "../errors.ts";
import {
  HAS_SSH_KEYGEN,
  sshKeygen,
  sshKeygenOk,
  withTempDir,
  writeKeyFile,
} from "../../testing/ssh_keygen.ts";
import { generateKeyPair, type KeyPair, publicKeyLine } from "./keys.ts";
import { encodePrivateKey } from "./private_key.ts";
import { createSigner, createVerifier } from "./signer.ts";
import {
  armorSshsig,
  dearmorSshsig,
  NAMESPACES,
  parseSshsig,
  signSshsig,
  verifySshsig,
} from "./sshsig.ts";

const enc = new TextEncoder();
const message = enc.encode("an entry's canonical bytes\n");
const interop = { ignore: !HAS_SSH_KEYGEN };

/** A fixed identity for golden tests: seed 0x00…0x1f. */
async function fixedKeyPair(): Promise<KeyPair> {
  const { ed25519 } = await import("@noble/curves/ed25519.js");
  const seed = new Uint8Array(32).map((_, i) => i);
  return { seed, publicKey: ed25519.getPublicKey(seed), comment: "golden" };
}

Deno.test("signSshsig output is stable (golden)", async () => {
  const signer = await createSigner(await fixedKeyPair());
  const blob = await signSshsig(signer, NAMESPACES.entry, enc.encode("golden message"));
  assert.equal(armorSshsig(blob), GOLDEN_ARMOR);
  assert.deepEqual(dearmorSshsig(GOLDEN_ARMOR), blob);
});

Deno.test("signSshsig round-trips through parse and verify", async () => {
  const kp = await generateKeyPair("");
  const signer = await createSigner(kp);
  const blob = await signSshsig(signer, NAMESPACES.addr, message);
  const parsed = parseSshsig(blob);
  assert.deepEqual(parsed.publicKey, kp.publicKey);
  assert.equal(parsed.namespace, "roj-addr");
  assert.equal(parsed.hashAlgorithm, "sha512");
  assert.equal(parsed.signature.length, 64);

  const verifier = createVerifier();
  for (const opts of [{}, { verifier }, { publicKey: kp.publicKey, verifier }]) {
    assert.deepEqual(await verifySshsig(blob, "roj-addr", message, opts), {
      publicKey: kp.publicKey,
    });
  }
  const other = await generateKeyPair("");
  assert.equal(await verifySshsig(blob, "roj-addr", message, { publicKey: other.publicKey }), null);
  assert.equal(await verifySshsig(blob, "roj-entry", message), null);
  assert.equal(await verifySshsig(blob, "roj-addr", message.subarray(1)), null);
  await assert.rejects(signSshsig(signer, "", message), RangeError);
});

Deno.test("large messages hash the same way as small ones", async () => {
  const signer = await createSigner(await generateKeyPair(""));
  const big = new Uint8Array(100_000).fill(7);
  const blob = await signSshsig(signer, NAMESPACES.entry, big);
  assert.notEqual(await verifySshsig(blob, NAMESPACES.entry, big), null);
  big[99_999] = 8;
  assert.equal(await verifySshsig(blob, NAMESPACES.entry, big), null);
});

Deno.test("malformed SSHSIG blobs: parse throws bad_input, verify returns null", async () => {
  const signer = await createSigner(await generateKeyPair(""));
  const blob = await signSshsig(signer, NAMESPACES.entry, message);
  const withByte = (i: number, v: number) => {
    const b = blob.slice();
    b[i] = v;
    return b;
  };
  const cases = [
    new Uint8Array(),
    blob.subarray(0, 20),
    blob.subarray(0, blob.length - 1),
    new Uint8Array([...blob, 0]),
    withByte(0, 0x53 ^ 1), // magic
    withByte(9, 2), // version
    withByte(14, 0x72), // key type "ssh-ed25519" → "ssh-rd25519"
  ];
  for (const bad of cases) {
    assert.throws(() => parseSshsig(bad), (e) => isRojError(e, "bad_input"));
    assert.equal(await verifySshsig(bad, NAMESPACES.entry, message), null);
  }
  for (let i = 0; i < blob.length; i++) {
    assert.equal(
      await verifySshsig(withByte(i, blob[i]! ^ 0x40), NAMESPACES.entry, message),
      null,
      `byte ${i}`,
    );
  }
  assert.throws(() => dearmorSshsig("not a signature"), (e) => isRojError(e, "bad_input"));
});

Deno.test("ssh-keygen -Y sign signatures verify here", interop, async () => {
  await withTempDir(async (dir) => {
    const key = `${dir}/id`;
    await sshKeygenOk(["-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", key]);
    await Deno.writeFile(`${dir}/msg`, message);
    for (const hash of ["sha512", "sha256"]) {
      await sshKeygenOk([
        "-Y",
        "sign",
        "-f",
        key,
        "-n",
        "roj-entry",
        "-O",
        `hashalg=${hash}`,
        `${dir}/msg`,
      ]);
      const blob = dearmorSshsig(await Deno.readTextFile(`${dir}/msg.sig`));
      assert.equal(parseSshsig(blob).hashAlgorithm, hash);
      const ok = await verifySshsig(blob, "roj-entry", message);
      assert.notEqual(ok, null);
      assert.equal(
        publicKeyLine(ok!.publicKey, "alice") + "\n",
        await Deno.readTextFile(`${key}.pub`),
      );
      assert.equal(
        await verifySshsig(blob, "roj-entry", enc.encode("an entry's canonical bytes!")),
        null,
      );
      assert.equal(await verifySshsig(blob, "roj-addr", message), null);
      await Deno.remove(`${dir}/msg.sig`);
    }
  });
});

Deno.test("our signatures pass ssh-keygen -Y verify and check-novalidate", interop, async () => {
  await withTempDir(async (dir) => {
    const kp = await generateKeyPair("alice");
    const blob = await signSshsig(await createSigner(kp), NAMESPACES.entry, message);
    const sigFile = `${dir}/msg.sig`;
    const signers = `${dir}/allowed_signers`;
    await Deno.writeTextFile(sigFile, armorSshsig(blob));
    await Deno.writeTextFile(signers, `alice ${publicKeyLine(kp.publicKey)}\n`);
    const verify = ["-Y", "verify", "-f", signers, "-I", "alice", "-n", "roj-entry", "-s", sigFile];
    const check = ["-Y", "check-novalidate", "-n", "roj-entry", "-s", sigFile];
    await sshKeygenOk(verify, message);
    await sshKeygenOk(check, message);

    const tampered = message.slice();
    tampered[0]! ^= 1;
    assert.notEqual((await sshKeygen(verify, tampered)).code, 0);
    assert.notEqual((await sshKeygen(check, tampered)).code, 0);
    const wrongNs = ["-Y", "verify", "-f", signers, "-I", "alice", "-n", "roj-addr", "-s", sigFile];
    assert.notEqual((await sshKeygen(wrongNs, message)).code, 0);
  });
});

Deno.test(
  "ssh-keygen -Y sign writes byte-identical signatures with the same key",
  interop,
  async () => {
    await withTempDir(async (dir) => {
      const kp = await fixedKeyPair();
      const signer = await createSigner(kp);
      const key = `${dir}/id`;
      await writeKeyFile(key, await encodePrivateKey(kp));
      await Deno.writeFile(`${dir}/msg`, enc.encode("golden message"));
      // A 39-byte namespace makes the base64 exactly four 70-column lines.
      for (const ns of ["roj-entry", "n".repeat(39)]) {
        await sshKeygenOk(["-Y", "sign", "-f", key, "-n", ns, `${dir}/msg`]);
        const ours = armorSshsig(await signSshsig(signer, ns, enc.encode("golden message")));
        assert.equal(await Deno.readTextFile(`${dir}/msg.sig`), ours);
        if (ns === "roj-entry") assert.equal(ours, GOLDEN_ARMOR);
        await Deno.remove(`${dir}/msg.sig`);
      }
    });
  },
);

/** Made by signSshsig and, identically, by `ssh-keygen -Y sign` with the same key. */
const GOLDEN_ARMOR = `-----BEGIN SSH SIGNATURE-----
U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgA6EHv/POEL4dcN0Y50vAmWfk1j
CbpQ1fHdyGZBJVMbgAAAAJcm9qLWVudHJ5AAAAAAAAAAZzaGE1MTIAAABTAAAAC3NzaC1l
ZDI1NTE5AAAAQOTEG95F7jtJK0HMZE6iM9nSHXfCtA5hLVfh+V83p8UCFxx9oFjY2f+uX+
/8v50XXj6qDfqRyMJCPbiKExCxcAg=
-----END SSH SIGNATURE-----
`;
