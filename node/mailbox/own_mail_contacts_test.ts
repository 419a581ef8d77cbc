/** Golden bytes of a box of contact changes in own mail (feature ownmail1, own_mail_contacts.ts). */
import assert from "node:assert/strict";
import { OWN_MAIL_FEATURE } from "../protocol/mod.ts";
import { type ContactChange, contactsBytes, parseContacts } from "./own_mail_contacts.ts";

const change: ContactChange = {
  key: "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
  state: "live",
  name: "carol",
  addresses: ["127.0.0.1:2222"],
  anchor: false,
  at: 1_800_000_000_000,
};

Deno.test("own mail contacts: the plaintext, byte for byte (sealed boxes carry it)", () => {
  assert.equal(OWN_MAIL_FEATURE, "ownmail1");
  const text = new TextDecoder().decode(contactsBytes([change]));
  assert.equal(
    text,
    'roj-ownmail-contacts-v1\0{"changes":[{"key":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",' +
      '"state":"live","name":"carol","addresses":["127.0.0.1:2222"],"anchor":false,' +
      '"at":1800000000000}]}',
  );
  assert.deepEqual(parseContacts(contactsBytes([change])), [change]);
});

Deno.test("own mail contacts: anything else, or past the method's bounds, is no box of changes", () => {
  const enc = new TextEncoder();
  assert.equal(parseContacts(enc.encode('{"changes":[]}')), null); // no magic
  assert.equal(parseContacts(enc.encode("roj-ownmail-contacts-v1\0not json")), null);
  assert.equal(parseContacts(contactsBytes([])), null); // at least one
  assert.equal(parseContacts(contactsBytes(Array(65).fill(change))), null); // at most 64
  assert.equal(parseContacts(contactsBytes([{ ...change, name: "a\nb" }])), null);
  assert.equal(parseContacts(new Uint8Array([0xff, 0xfe])), null);
});
