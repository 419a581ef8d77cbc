import assert from "node:assert/strict";
import { isRojError } from "../errors.ts";
import {
  certificateLine,
  createSigner,
  fingerprint,
  generateKeyPair,
  type Signer,
} from "../identity/mod.ts";
import { HAS_SSH_KEYGEN, sshKeygenOk, withTempDir } from "../../testing/ssh_keygen.ts";
import {
  addCertificate,
  addRevocation,
  certifyDevice,
  checkDeviceCertificate,
  createLinkCode,
  defaultValidity,
  deviceRows,
  deviceStanding,
  emptyDeviceBook,
  MAX_DEVICES_PER_PERSON,
  parseLinkCode,
  parseRevocation,
  signRevocation,
  speaksForPerson,
} from "./mod.ts";

const DAY = 24 * 3600 * 1000;
const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const badInput = (e: unknown) => isRojError(e, "bad_input");

async function person(): Promise<Signer> {
  return await createSigner(await generateKeyPair("alice"));
}

async function certify(p: Signer, name: string, from = NOW, days = 90, key?: Uint8Array) {
  const deviceKey = key ?? (await generateKeyPair(name)).publicKey;
  return await certifyDevice(p, {
    deviceKey,
    name,
    validFrom: from,
    validUntil: from + days * DAY,
    serial: 1n,
    nonce: crypto.getRandomValues(new Uint8Array(32)),
  });
}

Deno.test("a device certificate speaks for its person in its window, and only for them", async () => {
  const alice = await person();
  const mallory = await person();
  const cert = await certify(alice, "phone");
  assert.equal(cert.keyId, "phone");
  assert.deepEqual(cert.principals, [fingerprint(alice.publicKey)]);
  assert.equal(await checkDeviceCertificate(cert, alice.publicKey, NOW), null);
  assert.equal(await checkDeviceCertificate(cert, alice.publicKey, NOW + 89 * DAY), null);
  assert.equal(await checkDeviceCertificate(cert, alice.publicKey, NOW + 90 * DAY), "expired");
  assert.equal(await checkDeviceCertificate(cert, alice.publicKey, NOW - 1000), "not_yet_valid");
  assert.equal(await checkDeviceCertificate(cert, mallory.publicKey, NOW), "wrong_ca");
  const w = defaultValidity(NOW);
  assert.ok(w.validFrom < NOW && w.validUntil === NOW + 90 * DAY);
});

Deno.test("device names, windows and self-certification are checked", async () => {
  const alice = await person();
  for (const name of ["", "-phone", "a".repeat(33), "ph one", "phone\x1b[2J", "télé"]) {
    await assert.rejects(certify(alice, name), badInput, JSON.stringify(name));
  }
  for (const name of ["phone", "Laptop-2", "a".repeat(32), "x.y_z"]) await certify(alice, name);
  await assert.rejects(certify(alice, "phone", NOW, 0), badInput);
  await assert.rejects(certify(alice, "phone", NOW, 90, alice.publicKey), badInput);
});

Deno.test("ssh-keygen -L shows a device certificate as the person would read it", {
  ignore: !HAS_SSH_KEYGEN,
}, async () => {
  const alice = await person();
  const cert = await certify(alice, "phone", Date.now());
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/phone-cert.pub`, certificateLine(cert) + "\n");
    const out = await sshKeygenOk(["-L", "-f", `${dir}/phone-cert.pub`]);
    assert.match(out, /Key ID: "phone"/);
    assert.ok(out.includes(`Principals: \n                ${fingerprint(alice.publicKey)}`), out);
    assert.match(out, /Extensions: \(none\)/);
  });
});

Deno.test("revocations: round trip, and refused when altered, foreign or oversize", async () => {
  const alice = await person();
  const phone = await generateKeyPair("phone");
  const bytes = await signRevocation(alice, { device: phone.publicKey, from: NOW, reason: "lost" });
  const rev = await parseRevocation(bytes, alice.publicKey);
  assert.deepEqual(rev, {
    person: alice.publicKey,
    device: phone.publicKey,
    from: NOW,
    reason: "lost",
  });
  const bob = await person();
  await assert.rejects(parseRevocation(bytes, bob.publicKey), (e) => isRojError(e, "refused"));
  for (let i = 0; i < bytes.length; i += 7) {
    const bad = bytes.slice();
    bad[i]! ^= 0x20;
    await assert.rejects(
      parseRevocation(bad),
      (e) => badInput(e) || isRojError(e, "bad_signature"),
    );
  }
  await assert.rejects(parseRevocation(new Uint8Array(2000)), badInput);
  await assert.rejects(
    signRevocation(alice, { device: phone.publicKey, from: NOW, reason: "x".repeat(201) }),
    badInput,
  );
  await assert.rejects(
    signRevocation(alice, { device: alice.publicKey, from: NOW, reason: "" }),
    badInput,
  );
});

Deno.test("link codes: round trip, and refused when expired, altered or foreign", async () => {
  const alicePerson = await person();
  const laptop = await createSigner(await generateKeyPair("laptop"));
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const code = {
    person: alicePerson.publicKey,
    addresses: ["127.0.0.2:7420", "[::1]:7420"],
    expires: NOW + 10 * 60_000,
    secret,
  };
  const text = await createLinkCode(laptop, code);
  assert.ok(text.startsWith("rojdev1:"));
  const parsed = await parseLinkCode(`  ${text}\n`, NOW);
  assert.deepEqual(parsed, { ...code, device: laptop.publicKey });
  await assert.rejects(parseLinkCode(text, NOW + 10 * 60_000), badInput);
  await assert.rejects(parseLinkCode("roj1:AAAA", NOW), badInput);
  await assert.rejects(parseLinkCode("rojdev1:" + "A".repeat(3000), NOW), badInput);
  // A changed character anywhere is caught before anything is dialled.
  for (let i = "rojdev1:".length; i < text.length; i += 11) {
    const c = text[i] === "A" ? "B" : "A";
    const altered = text.slice(0, i) + c + text.slice(i + 1);
    await assert.rejects(parseLinkCode(altered, NOW), badInput, `at ${i}`);
  }
  await assert.rejects(createLinkCode(laptop, { ...code, addresses: [] }), badInput);
  await assert.rejects(
    createLinkCode(laptop, { ...code, secret: secret.subarray(0, 16) }),
    badInput,
  );
});

Deno.test("the device book: renewals, late certificates, revocation for good, the person key", async () => {
  const alice = await person();
  const phoneKey = (await generateKeyPair("phone")).publicKey;
  const first = await certify(alice, "phone", NOW, 90, phoneKey);
  const renewed = await certify(alice, "phone", NOW + 80 * DAY, 90, phoneKey);
  let book = emptyDeviceBook(alice.publicKey);
  assert.equal(deviceStanding(book, phoneKey, NOW), "unknown");
  assert.equal(deviceStanding(book, alice.publicKey, NOW), "person");
  book = addCertificate(book, renewed);
  book = addCertificate(book, first); // arrives late: changes nothing
  assert.equal(deviceStanding(book, phoneKey, NOW + 100 * DAY), "valid");
  assert.equal(deviceStanding(book, phoneKey, NOW + 170 * DAY), "expired");
  assert.equal(deviceStanding(book, phoneKey, NOW + 10 * DAY), "not_yet_valid");

  const rev = (from: number) => ({ person: alice.publicKey, device: phoneKey, from, reason: "" });
  book = addRevocation(book, rev(NOW + 120 * DAY));
  book = addRevocation(book, rev(NOW + 130 * DAY)); // a later one: the earlier counts
  assert.ok(speaksForPerson(book, phoneKey, NOW + 119 * DAY));
  assert.equal(deviceStanding(book, phoneKey, NOW + 120 * DAY), "revoked");
  const again = await certify(alice, "phone", NOW + 150 * DAY, 90, phoneKey);
  book = addCertificate(book, again); // a new certificate does not undo a revocation
  assert.equal(deviceStanding(book, phoneKey, NOW + 160 * DAY), "revoked");
  // The person key cannot be revoked, and another person's revocation is ignored.
  book = addRevocation(book, { ...rev(NOW), device: alice.publicKey });
  assert.ok(speaksForPerson(book, alice.publicKey, NOW + 200 * DAY));
  const bob = await person();
  const laptopKey = (await generateKeyPair("laptop")).publicKey;
  book = addCertificate(book, await certify(alice, "laptop", NOW, 90, laptopKey));
  book = addRevocation(book, { person: bob.publicKey, device: laptopKey, from: NOW, reason: "" });
  assert.ok(speaksForPerson(book, laptopKey, NOW + DAY));
});

Deno.test("the device book is bounded, and lists devices by name with renewal due", async () => {
  const alice = await person();
  let book = emptyDeviceBook(alice.publicKey);
  for (let i = 0; i < MAX_DEVICES_PER_PERSON + 3; i++) {
    book = addCertificate(book, await certify(alice, `d${String(i).padStart(2, "0")}`));
  }
  assert.equal(book.devices.size, MAX_DEVICES_PER_PERSON);
  let revocations = book;
  for (let i = 0; i < 200; i++) {
    const key = (await generateKeyPair("x")).publicKey;
    revocations = addRevocation(revocations, {
      person: alice.publicKey,
      device: key,
      from: NOW,
      reason: "",
    });
  }
  assert.equal(revocations.devices.size, 4 * MAX_DEVICES_PER_PERSON);

  const small = addCertificate(
    addCertificate(emptyDeviceBook(alice.publicKey), await certify(alice, "phone", NOW, 20)),
    await certify(alice, "laptop", NOW, 90),
  );
  const rows = deviceRows(small, NOW + 7 * DAY);
  assert.deepEqual(rows.map((r) => [r.name, r.standing, r.renewalDue]), [
    ["laptop", "valid", false],
    ["phone", "valid", true],
  ]);
  assert.equal(rows[1]!.validUntil, NOW + 20 * DAY);
});
