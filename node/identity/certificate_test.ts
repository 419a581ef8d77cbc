import assert from "node:assert/strict";
import { isRojError } from "../errors.ts";
import { WireReader, WireWriter } from "../wire/mod.ts";
import {
  HAS_SSH_KEYGEN,
  sshKeygen,
  sshKeygenOk,
  withTempDir,
  writeKeyFile,
} from "../../testing/ssh_keygen.ts";
import {
  type Certificate,
  type CertificateFields,
  certificateLine,
  checkCertificate,
  FOREVER,
  parseCertificate,
  parseCertificateLine,
  signCertificate,
} from "./certificate.ts";
import { fingerprint } from "./fingerprint.ts";
import { generateKeyPair, publicKeyLine } from "./keys.ts";
import { decodePrivateKey, encodePrivateKey } from "./private_key.ts";
import { createSigner } from "./signer.ts";
import {
  armorSshsig,
  NAMESPACES,
  parseSshsig,
  signSshsig,
  sshsigNamesCertificate,
  verifySshsig,
} from "./sshsig.ts";

const interop = { ignore: !HAS_SSH_KEYGEN };
const YEAR = 365 * 24 * 3600;

async function deviceFields(over: Partial<CertificateFields> = {}) {
  const person = await generateKeyPair("alice");
  const device = await generateKeyPair("phone");
  const now = Math.floor(Date.now() / 1000);
  const fields: CertificateFields = {
    nonce: crypto.getRandomValues(new Uint8Array(32)),
    publicKey: device.publicKey,
    serial: 7n,
    kind: "user",
    keyId: "phone",
    principals: [fingerprint(person.publicKey)],
    validAfter: now - 60,
    validBefore: now + YEAR,
    criticalOptions: [],
    extensions: [],
    ...over,
  };
  return { person, device, fields, now, ca: await createSigner(person) };
}

Deno.test("a certificate we sign is what ssh-keygen -L prints", interop, async () => {
  const { person, fields, ca } = await deviceFields();
  const cert = await signCertificate(ca, fields);
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/phone-cert.pub`, certificateLine(cert, "phone") + "\n");
    const out = await sshKeygenOk(["-L", "-f", `${dir}/phone-cert.pub`]);
    assert.match(out, /Type: ssh-ed25519-cert-v01@openssh.com user certificate/);
    assert.match(out, /Key ID: "phone"/);
    assert.match(out, /Serial: 7/);
    assert.ok(out.includes(`Signing CA: ED25519 ${fingerprint(person.publicKey)}`), out);
    assert.ok(out.includes(fingerprint(person.publicKey)), out);
    assert.match(out, /Critical Options: \(none\)/);
  });
});

Deno.test(
  "ssh-keygen -s certificates parse here, and re-signing their fields gives the same bytes",
  interop,
  async () => {
    await withTempDir(async (dir) => {
      await sshKeygenOk(["-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", `${dir}/ca`]);
      await sshKeygenOk(["-q", "-t", "ed25519", "-N", "", "-C", "phone", "-f", `${dir}/dev`]);
      const caPair = await decodePrivateKey(await Deno.readTextFile(`${dir}/ca`));
      const fp = fingerprint(caPair.publicKey);
      // With ssh-keygen's default extensions (permit-X11-forwarding …) and with none.
      for (const extra of [[], ["-O", "clear"]]) {
        await sshKeygenOk([
          "-q",
          "-s",
          `${dir}/ca`,
          "-I",
          "phone",
          "-n",
          `${fp},alice`,
          "-z",
          "42",
          "-V",
          "20260101000000:20280101000000",
          ...extra,
          `${dir}/dev.pub`,
        ]);
        const line = await Deno.readTextFile(`${dir}/dev-cert.pub`);
        const { certificate: theirs, comment } = parseCertificateLine(line);
        assert.equal(comment, "phone");
        assert.equal(theirs.keyId, "phone");
        assert.deepEqual(theirs.principals, [fp, "alice"]);
        assert.equal(theirs.serial, 42n);
        assert.equal(theirs.kind, "user");
        assert.equal(theirs.extensions.length, extra.length === 0 ? 5 : 0);
        assert.equal(theirs.validAfter, Date.UTC(2026, 0, 1) / 1000 - tzOffsetSeconds());
        assert.deepEqual(theirs.caKey, caPair.publicKey);
        assert.equal(
          await checkCertificate(theirs, { ca: caPair.publicKey, at: theirs.validAfter }),
          null,
        );
        const ours = await signCertificate(await createSigner(caPair), theirs);
        assert.deepEqual(ours.blob, theirs.blob);
        assert.equal(certificateLine(ours, "phone") + "\n", line);
        await Deno.remove(`${dir}/dev-cert.pub`);
      }
    });
  },
);

/** ssh-keygen reads -V times in the local zone; the test machine's offset at 2026-01-01. */
function tzOffsetSeconds(): number {
  return -new Date(2026, 0, 1).getTimezoneOffset() * 60;
}

Deno.test("checkCertificate: CA, signature, kind, window and principal", async () => {
  const { person, fields, ca, now } = await deviceFields();
  const cert = await signCertificate(ca, fields);
  const ok = {
    ca: person.publicKey,
    at: now,
    kind: "user" as const,
    principal: fields.principals[0]!,
  };
  assert.equal(await checkCertificate(cert, { ...ok, kind: "user" }), null);
  const stranger = await generateKeyPair("mallory");
  assert.equal(await checkCertificate(cert, { ...ok, ca: stranger.publicKey }), "wrong_ca");
  assert.equal(await checkCertificate(cert, { ...ok, kind: "host" }), "wrong_kind");
  assert.equal(await checkCertificate(cert, { ...ok, at: fields.validAfter - 1 }), "not_yet_valid");
  assert.equal(await checkCertificate(cert, { ...ok, at: fields.validAfter }), null);
  assert.equal(await checkCertificate(cert, { ...ok, at: fields.validBefore }), "expired");
  assert.equal(
    await checkCertificate(cert, { ...ok, principal: "SHA256:someone-else" }),
    "principal_not_listed",
  );
  // A certificate the CA never signed: another key's, with the CA's name on it.
  const forged = await signCertificate(await createSigner(stranger), fields);
  const relabelled = parseCertificate(replaceCaKey(forged.blob, person.publicKey));
  assert.equal(await checkCertificate(relabelled, ok), "bad_signature");
  const forever = await signCertificate(ca, { ...fields, validBefore: FOREVER });
  assert.equal(await checkCertificate(forever, { ...ok, at: 2 ** 40 }), null);
  assert.deepEqual(parseCertificate(forever.blob).validBefore, FOREVER);
});

Deno.test("every flipped bit of a certificate fails it", async () => {
  const { person, fields, ca, now } = await deviceFields();
  const cert = await signCertificate(ca, fields);
  const expect = { ca: person.publicKey, at: now };
  for (let i = 0; i < cert.blob.length; i++) {
    const bad = cert.blob.slice();
    bad[i]! ^= 0x01;
    let parsed: Certificate;
    try {
      parsed = parseCertificate(bad);
    } catch (err) {
      assert.ok(isRojError(err, "bad_input"), `byte ${i}: ${err}`);
      continue;
    }
    assert.notEqual(await checkCertificate(parsed, expect), null, `byte ${i}`);
  }
});

Deno.test("malformed certificates are refused with bad_input", async () => {
  const { fields, ca } = await deviceFields();
  const cert = await signCertificate(ca, fields);
  const refused = (blob: Uint8Array, why: string) =>
    assert.throws(() => parseCertificate(blob), (e) => isRojError(e, "bad_input"), why);
  refused(cert.blob.subarray(0, cert.blob.length - 1), "truncated");
  refused(new Uint8Array([...cert.blob, 0]), "trailing byte");
  refused(new Uint8Array(5000), "oversize");
  refused(new WireWriter().string("ssh-ed25519").string(fields.publicKey).bytes(), "a plain key");
  await assert.rejects(
    signCertificate(ca, {
      ...fields,
      criticalOptions: [{ name: "force-command", data: new Uint8Array(4) }],
    }),
    (e) => isRojError(e, "bad_input"),
  );
  const ext = (name: string) => ({ name, data: new Uint8Array(0) });
  await assert.rejects(
    signCertificate(ca, { ...fields, extensions: [ext("permit-pty"), ext("permit-agent")] }),
    (e) => isRojError(e, "bad_input"),
  );
  await assert.rejects(
    signCertificate(ca, { ...fields, validAfter: 1.5 }),
    (e) => isRojError(e, "bad_input"),
  );
  await assert.rejects(
    signCertificate(ca, { ...fields, principals: Array(17).fill("p") }),
    (e) => isRojError(e, "bad_input"),
  );
});

Deno.test("ssh-keygen certificates with a critical option are refused", interop, async () => {
  await withTempDir(async (dir) => {
    const person = await generateKeyPair("alice");
    await writeKeyFile(`${dir}/ca`, await encodePrivateKey(person));
    const device = await generateKeyPair("phone");
    await Deno.writeTextFile(`${dir}/dev.pub`, publicKeyLine(device.publicKey, "phone") + "\n");
    const r = await sshKeygen([
      "-q",
      "-s",
      `${dir}/ca`,
      "-I",
      "phone",
      "-O",
      "force-command=/bin/true",
      `${dir}/dev.pub`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.throws(
      () => parseCertificateLine(Deno.readTextFileSync(`${dir}/dev-cert.pub`)),
      (e) => isRojError(e, "bad_input"),
    );
  });
});

/** The blob with its signature key replaced by `caKey`, the signature kept. */
function replaceCaKey(blob: Uint8Array, caKey: Uint8Array): Uint8Array {
  const cert = parseCertificate(blob);
  const r = new WireReader(cert.signedBytes);
  // The signature key is the last string of the signed part: cut it off and write the new one.
  const keyBlobLength = 4 + 11 + 4 + 32;
  const head = r.raw(cert.signedBytes.length - 4 - keyBlobLength);
  return new WireWriter()
    .raw(head)
    .string(new WireWriter().string("ssh-ed25519").string(caKey).bytes())
    .string(new WireWriter().string("ssh-ed25519").string(cert.signature).bytes())
    .bytes();
}

Deno.test(
  "SSHSIG by a certified device key: byte-identical to ssh-keygen -Y sign -f key-cert.pub, and ssh-keygen verifies it with cert-authority",
  interop,
  async () => {
    const { person, device, fields, ca } = await deviceFields();
    const cert = await signCertificate(ca, fields);
    const deviceSigner = await createSigner(device);
    const message = new TextEncoder().encode("an entry from alice's phone\n");
    const blob = await signSshsig(deviceSigner, NAMESPACES.entry, message, cert);
    const parsed = parseSshsig(blob);
    assert.deepEqual(parsed.publicKey, device.publicKey);
    assert.deepEqual(parsed.certificate?.blob, cert.blob);
    const ok = await verifySshsig(blob, NAMESPACES.entry, message, {
      publicKey: device.publicKey,
    });
    assert.deepEqual(ok?.certificate?.caKey, person.publicKey);
    // Today's callers name the person's key: a device's signature is not the person's.
    assert.equal(
      await verifySshsig(blob, NAMESPACES.entry, message, { publicKey: person.publicKey }),
      null,
    );
    await assert.rejects(
      signSshsig(await createSigner(person), NAMESPACES.entry, message, cert),
      RangeError,
    );
    await withTempDir(async (dir) => {
      await writeKeyFile(`${dir}/phone`, await encodePrivateKey(device));
      await Deno.writeTextFile(`${dir}/phone-cert.pub`, certificateLine(cert) + "\n");
      await Deno.writeFile(`${dir}/msg`, message);
      await sshKeygenOk([
        "-Y",
        "sign",
        "-f",
        `${dir}/phone-cert.pub`,
        "-n",
        "roj-entry",
        `${dir}/msg`,
      ]);
      assert.equal(await Deno.readTextFile(`${dir}/msg.sig`), armorSshsig(blob));
      const fp = fingerprint(person.publicKey);
      const signers = `${dir}/allowed_signers`;
      // OpenSSH matches -I against the certificate's principals: the person's fingerprint.
      await Deno.writeTextFile(
        signers,
        `${fp} cert-authority ${publicKeyLine(person.publicKey)}\n`,
      );
      const verify = ["-Y", "verify", "-f", signers, "-I", fp, "-n", "roj-entry", "-s"];
      const out = await sshKeygen([...verify, `${dir}/msg.sig`], message);
      assert.equal(out.code, 0, out.stderr);
      const tampered = message.slice();
      tampered[0]! ^= 1;
      assert.notEqual((await sshKeygen([...verify, `${dir}/msg.sig`], tampered)).code, 0);
      // Another person's CA line does not vouch for alice's phone.
      const mallory = await generateKeyPair("mallory");
      await Deno.writeTextFile(
        signers,
        `${fp} cert-authority ${publicKeyLine(mallory.publicKey)}\n`,
      );
      assert.notEqual((await sshKeygen([...verify, `${dir}/msg.sig`], message)).code, 0);
    });
  },
);

Deno.test("sshsigNamesCertificate says from the blob's head what parseSshsig finds", async () => {
  const { device, fields, ca } = await deviceFields();
  const cert = await signCertificate(ca, fields);
  const signer = await createSigner(device);
  const message = new TextEncoder().encode("an entry");
  const withCert = await signSshsig(signer, NAMESPACES.entry, message, cert);
  const plain = await signSshsig(signer, NAMESPACES.entry, message);
  assert.ok(parseSshsig(withCert).certificate);
  assert.equal(sshsigNamesCertificate(withCert), true);
  assert.equal(parseSshsig(plain).certificate, undefined);
  assert.equal(sshsigNamesCertificate(plain), false);
  // Too short to say, or not an SSHSIG: no certificate (parseSshsig throws for these).
  for (const bad of [new Uint8Array(0), withCert.subarray(0, 20), plain.subarray(0, 13)]) {
    assert.equal(sshsigNamesCertificate(bad), false);
  }
  const otherMagic = withCert.slice();
  otherMagic[0] = 0x58;
  assert.equal(sshsigNamesCertificate(otherMagic), false);
});
