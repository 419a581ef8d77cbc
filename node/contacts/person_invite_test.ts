import assert from "node:assert/strict";
import { base64urlnopad } from "@scure/base";
import { certifyDevice } from "../devices/mod.ts";
import { isRojError } from "../errors.ts";
import {
  armorSshsig,
  createSigner,
  fingerprint,
  generateKeyPair,
  publicKeyLine,
  unpackSigned,
} from "../identity/mod.ts";
import { tempDir } from "../../testing/temp.ts";
import { parseInvite } from "./invite.ts";
import { createPersonInviteText } from "./person_invite.ts";

const NOW = 1_800_000_000_000;

async function setup(validUntil = NOW + 86_400_000, validFrom = NOW - 1000) {
  const person = await generateKeyPair("alice");
  const phone = await generateKeyPair("phone");
  const personSigner = await createSigner(person);
  const phoneSigner = await createSigner(phone);
  const cert = await certifyDevice(personSigner, {
    deviceKey: phone.publicKey,
    name: "phone",
    validFrom,
    validUntil,
    serial: 1n,
    nonce: new Uint8Array(32).fill(1),
  });
  const text = await createPersonInviteText(phoneSigner, {
    person: person.publicKey,
    name: "alice",
    devices: [cert],
    addresses: [
      { address: "127.0.0.4:7022", host: phone.publicKey },
      { address: "127.0.0.2:7022", host: person.publicKey },
      { address: "127.0.0.9:7022", host: new Uint8Array(32).fill(9) }, // not in the invite: left out
    ],
    expires: NOW + 60_000,
    nonce: new Uint8Array(16).fill(7),
  });
  return { person, phone, cert, text, personSigner, phoneSigner };
}

Deno.test("a device's invite names the person, with the device and the key at each address", async () => {
  const { person, phone, cert, text } = await setup();
  assert.match(text, /^roj1:[A-Za-z0-9_-]+$/);
  const inv = await parseInvite(text, NOW);
  assert.deepEqual(inv.publicKey, person.publicKey);
  assert.equal(inv.name, "alice");
  assert.deepEqual(inv.addresses, ["127.0.0.4:7022", "127.0.0.2:7022"]);
  assert.deepEqual(inv.hosts, [phone.publicKey, person.publicKey]);
  assert.deepEqual(inv.devices?.map((c) => c.blob), [cert.blob]);
  assert.deepEqual(inv.nonce, new Uint8Array(16).fill(7));
});

Deno.test("a device's invite is refused once tampered, expired, or its certificate ended", async () => {
  const { text } = await setup(NOW + 10_000);
  await assert.rejects(
    () => parseInvite(text, NOW + 20_000),
    (e) => isRojError(e, "bad_input") && /not alice's now/.test(e.message),
  );
  const raw = base64urlnopad.decode(text.slice(5));
  raw[raw.length - 3]! ^= 1;
  await assert.rejects(
    () => parseInvite("roj1:" + base64urlnopad.encode(raw), NOW),
    (e) => isRojError(e, "bad_input") && /altered/.test(e.message),
  );
  const good = await setup();
  await assert.rejects(
    () => parseInvite(good.text, NOW + 120_000),
    (e) => isRojError(e, "bad_input"),
  );
});

Deno.test("a device's invite signed by another key than its first certificate's is refused", async () => {
  const { person, cert, personSigner } = await setup();
  // Signed by the person key, though it names the phone's certificate first: refused when made.
  await assert.rejects(() =>
    createPersonInviteText(personSigner, {
      person: person.publicKey,
      name: "alice",
      devices: [cert],
      addresses: [],
      expires: NOW + 60_000,
      nonce: new Uint8Array(16),
    })
  );
});

Deno.test("stock ssh-keygen verifies a device's invite with the person key as cert-authority", async () => {
  // ssh-keygen checks the certificate's window at its own clock.
  const { person, text } = await setup(Date.now() + 86_400_000, Date.now() - 60_000);
  await using tmp = await tempDir();
  const { payload, sig } = unpackSigned(base64urlnopad.decode(text.slice(5)), "invite");
  await Deno.writeFile(`${tmp.path}/invite.bin`, payload);
  await Deno.writeTextFile(`${tmp.path}/invite.sig`, armorSshsig(sig));
  const verify = async (authority: string) => {
    await Deno.writeTextFile(
      `${tmp.path}/allowed_signers`,
      `${fingerprint(person.publicKey)} cert-authority ${authority}\n`,
    );
    const v = new Deno.Command("ssh-keygen", {
      args: [
        "-Y",
        "verify",
        "-f",
        `${tmp.path}/allowed_signers`,
        "-I",
        fingerprint(person.publicKey),
        "-n",
        "roj-invite",
        "-s",
        `${tmp.path}/invite.sig`,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = v.stdin.getWriter();
    await w.write(payload);
    await w.close();
    const o = await v.output();
    return {
      code: o.code,
      out: new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr),
    };
  };
  const good = await verify(publicKeyLine(person.publicKey));
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /Good "roj-invite" signature .* with ED25519-CERT key/);
  const other = await generateKeyPair("mallory");
  assert.notEqual((await verify(publicKeyLine(other.publicKey))).code, 0);
});
