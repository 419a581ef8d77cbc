/**
 * Contact changes in own mail (own_mail.ts): what the person changed in the
 * contact book on one device, for another device never online with it, in
 * the form the devices' own sessions carry it (devsync.contacts, feature
 * devcontacts1), inside a box sealed like an entry's but with no signature:
 *
 *   plaintext = "roj-ownmail-contacts-v1\0" || UTF-8 JSON of the devsync.contacts params
 *
 * Only the two devices can seal under the pair's key, so the box needs no
 * signature of its own; its contents are still checked against the method's
 * schema, as a sibling session's request would be.
 */
import { OWN_MAIL_CONTACTS_MAGIC } from "../identity/mod.ts";
import { check, type ParamsOf } from "../protocol/mod.ts";

/** One contact change, as devsync.contacts carries it. */
export type ContactChange = ParamsOf<"devsync.contacts">["changes"][number];

const encoder = new TextEncoder();
const MAGIC = encoder.encode(OWN_MAIL_CONTACTS_MAGIC);

/** A box's plaintext for these changes (1 to 64 of them, the method's bound). */
export function contactsBytes(changes: readonly ContactChange[]): Uint8Array {
  const json = encoder.encode(JSON.stringify({ changes }));
  const out = new Uint8Array(MAGIC.length + json.length);
  out.set(MAGIC);
  out.set(json, MAGIC.length);
  return out;
}

/** The changes a box's plaintext carries; null when it is not such a box or fails the schema. */
export function parseContacts(bytes: Uint8Array): ContactChange[] | null {
  if (bytes.length <= MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) return null;
  try {
    const value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      bytes.subarray(MAGIC.length),
    ));
    return check("devsync.contacts", "params", value).changes;
  } catch {
    return null;
  }
}
