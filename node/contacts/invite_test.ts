import assert from "node:assert/strict";
import { base64urlnopad } from "@scure/base";
import { isRojError } from "../errors.ts";
import { createSigner, generateKeyPair } from "../identity/mod.ts";
import { createInviteText, parseInvite } from "./invite.ts";

const NOW = 1_800_000_000_000;

async function make(expires = NOW + 60_000) {
  const kp = await generateKeyPair("alice");
  const signer = await createSigner(kp);
  const nonce = new Uint8Array(16).fill(7);
  return {
    kp,
    text: await createInviteText(signer, {
      name: "alice",
      addresses: ["127.0.0.2:7022", "[::1]:7022"],
      expires,
      nonce,
    }),
  };
}

Deno.test("an invite round-trips: key, name, addresses, expiry, nonce", async () => {
  const { kp, text } = await make();
  assert.match(text, /^roj1:[A-Za-z0-9_-]+$/);
  const inv = await parseInvite(` ${text}\n`, NOW);
  assert.deepEqual(inv.publicKey, kp.publicKey);
  assert.equal(inv.name, "alice");
  assert.deepEqual(inv.addresses, ["127.0.0.2:7022", "[::1]:7022"]);
  assert.equal(inv.expires, NOW + 60_000);
  assert.deepEqual(inv.nonce, new Uint8Array(16).fill(7));
});

Deno.test("expired, tampered and unparseable invites get a one-line reason", async () => {
  const { text } = await make(NOW - 1);
  await assert.rejects(
    () => parseInvite(text, NOW),
    (e) => isRojError(e, "bad_input") && /expired/.test(e.message),
  );

  const good = (await make()).text;
  const raw = base64urlnopad.decode(good.slice(5));
  raw[60]! ^= 1; // inside the signed payload
  await assert.rejects(
    () => parseInvite("roj1:" + base64urlnopad.encode(raw), NOW),
    (e) => isRojError(e, "bad_input") && /altered|damaged/.test(e.message),
  );
  for (
    const junk of [
      "",
      "hello",
      "roj1:",
      "roj1:!!!!",
      "roj1:" + "A".repeat(5000),
      good.slice(0, good.length - 10),
    ]
  ) {
    await assert.rejects(
      () => parseInvite(junk, NOW),
      (e) => isRojError(e, "bad_input") && !e.message.includes("\n"),
    );
  }
});
