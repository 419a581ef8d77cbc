/**
 * `verify` and `verify.mark`: a contact's safety number, and marking it
 * verified once the person compared it with the contact (contacts/verifications.ts).
 */
import type { Params, VerifyView } from "../api/mod.ts";
import type { Clock } from "../clock/mod.ts";
import type { Verifications } from "../contacts/mod.ts";
import type { EventBus } from "../events.ts";
import { fingerprint, formatSafetyNumber } from "../identity/mod.ts";
import type { ChatDirectory } from "../chats/mod.ts";
import type { ContactView } from "../api/mod.ts";
import type { Contact } from "../contacts/mod.ts";

export interface VerifyDeps {
  readonly me: Uint8Array;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly directory: ChatDirectory;
  readonly verifications: Verifications;
  /** The contact as the API shows it (for the "contact" event a mark sends). */
  view(c: Contact): ContactView;
}

export function verifyHandlers(d: VerifyDeps) {
  const show = (c: Contact): VerifyView => {
    const number = d.verifications.number(c.publicKey);
    const verifiedAt = d.verifications.verifiedAt(c.publicKey);
    return {
      name: c.name,
      fingerprint: fingerprint(c.publicKey),
      myFingerprint: fingerprint(d.me),
      number,
      groups: formatSafetyNumber(number).split(" "),
      verified: verifiedAt !== null,
      verifiedAt,
    };
  };
  return {
    verify: (p: Params<"verify">) => show(d.directory.contact(p.name)),
    "verify.mark": async (p: Params<"verify.mark">) => {
      const c = d.directory.contact(p.name);
      const on = p.verified ?? true;
      if (on) await d.verifications.mark(c.publicKey, d.clock.now());
      else await d.verifications.forget(c.publicKey);
      d.bus.say(`${on ? "marked" : "unmarked"} ${c.name} as verified`);
      d.bus.emit({ type: "contact", contact: d.view(c) });
      return show(c);
    },
  };
}
