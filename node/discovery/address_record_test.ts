import assert from "node:assert/strict";
import { createSigner, generateKeyPair } from "../identity/mod.ts";
import { isRojError } from "../errors.ts";
import { bytesEqual, WireReader } from "../wire/mod.ts";
import { MAX_RECORD_RELAYS, openRecord, signRecord } from "./address_record.ts";

const signer = async () => await createSigner(await generateKeyPair("t"));

Deno.test("address record: without relays it stays v1, byte for byte what older nodes read", async () => {
  const s = await signer();
  const rec = await signRecord(s, { seq: 3, time: 1000, addresses: ["192.0.2.1:7022"] });
  assert.equal(rec.relays, undefined);
  const body = new WireReader(rec.packed).string();
  assert.equal(new WireReader(body).text(), "roj-addr-v1");
  const back = await openRecord(rec.packed, s.publicKey);
  assert.deepEqual(back.addresses, ["192.0.2.1:7022"]);
  assert.equal(back.relays, undefined);
});

Deno.test("address record: relays round-trip as v2, and are covered by the signature", async () => {
  const s = await signer();
  const relays = [new Uint8Array(32).fill(7), new Uint8Array(32).fill(9)];
  const rec = await signRecord(s, { seq: 4, time: 1000, addresses: ["10.0.0.2:7022"], relays });
  assert.equal(new WireReader(new WireReader(rec.packed).string()).text(), "roj-addr-v2");
  const back = await openRecord(rec.packed, s.publicKey);
  assert.equal(back.relays?.length, 2);
  assert.ok(back.relays!.every((k, i) => bytesEqual(k, relays[i]!)));
  // Flip one byte of a relay key (inside the signed bytes): the signature no longer holds.
  const tampered = rec.packed.slice();
  const at = tampered.findIndex((_, i) => tampered.slice(i, i + 32).every((b) => b === 9));
  assert.ok(at > 0);
  tampered[at] = 8;
  await assert.rejects(
    () => openRecord(tampered, s.publicKey),
    (e) => isRojError(e, "bad_signature"),
  );
  await assert.rejects(
    () =>
      signRecord(s, {
        seq: 5,
        time: 1,
        addresses: ["10.0.0.2:7022"],
        relays: new Array(MAX_RECORD_RELAYS + 1).fill(relays[0]),
      }),
    RangeError,
  );
});
