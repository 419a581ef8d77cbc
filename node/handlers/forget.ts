/**
 * Removing or blocking a contact, and everything held for them: the one path
 * for `roj remove`/`roj block` here and for a removal or block the person made
 * on another of her devices (device_sync/contact_sync.ts), so a sibling's
 * change leaves no relay list, verified mark, sealed copy or introduction
 * behind that a local one would have dropped.
 */
import type { ContactView } from "../api/mod.ts";
import type { Contact, ContactBook, Verifications } from "../contacts/mod.ts";
import type { Discovery } from "../discovery/mod.ts";
import type { EventBus } from "../events.ts";
import type { IntroService } from "../introductions/mod.ts";
import type { Relay } from "../relay/mod.ts";
import type { SessionManager } from "../sessions/mod.ts";

export type ForgetHow = "remove" | "block";

/** Who made the change: the person here, or on another of her devices. */
export type ForgetBy = "here" | "sibling";

export interface ForgetDeps {
  readonly contacts: ContactBook;
  readonly verifications: Verifications;
  readonly sessions: SessionManager;
  readonly discovery: Discovery;
  readonly relay: Relay;
  readonly intros: IntroService | undefined;
  readonly bus: EventBus;
  /** The contact as the API shows it (for the "contact" event). */
  view(c: Contact): ContactView;
}

/** Removes or blocks contact `c` and drops what was kept for them. */
export async function forgetContact(
  d: ForgetDeps,
  c: Contact,
  how: ForgetHow,
  by: ForgetBy = "here",
): Promise<void> {
  if (how === "remove") {
    if (d.contacts.get(c.publicKey)) await d.contacts.remove(c.publicKey);
    await d.relay.forget(c.publicKey);
    await d.verifications.forget(c.publicKey);
  } else if (!d.contacts.get(c.publicKey)?.blocked) {
    await d.contacts.update(c.publicKey, { blocked: true });
  }
  // Every session: a contact with several devices has one per device.
  for (const s of d.sessions.of(c.publicKey)) s.rpc.close(how === "remove" ? "removed" : "blocked");
  // The sealed copies they handed us: held for someone we no longer know (issue 17).
  await d.discovery.sealed.drop(c.publicKey);
  await d.intros?.forget(c.publicKey);
  d.bus.emit({ type: "contact", contact: { ...d.view(c), online: false } });
  const done = how === "remove" ? "removed" : "blocked";
  d.bus.say(by === "here" ? `${done} ${c.name}` : `your other device ${done} ${c.name}`);
  d.discovery.refresh();
}
