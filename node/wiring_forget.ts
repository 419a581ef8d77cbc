/**
 * A contact removed or blocked on another of the person's devices
 * (device_sync/contact_sync.ts) is forgotten here exactly as `roj remove` /
 * `roj block` forget one (handlers/forget.ts): built from wire()'s parts,
 * which are reached when a sibling's change arrives, after wiring.
 */
import type { Clock } from "./clock/mod.ts";
import type { Contact } from "./contacts/mod.ts";
import { forgetContact, type ForgetDeps, type ForgetHow } from "./handlers/mod.ts";
import { contactView } from "./views/mod.ts";

/** What forgetContact takes, less the view (built here), and the clock the view dates by. */
export type SiblingForgetParts = Omit<ForgetDeps, "view"> & { readonly clock: Clock };

export function siblingForget(
  parts: () => SiblingForgetParts,
): (c: Contact, how: ForgetHow) => Promise<void> {
  return (c, how) => {
    const p = parts();
    const view = (k: Contact) =>
      contactView(k, false, p.clock.now(), p.verifications.isVerified(k.publicKey));
    return forgetContact({ ...p, view }, c, how, "sibling");
  };
}
