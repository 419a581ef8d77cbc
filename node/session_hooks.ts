/**
 * What every session with a contact serves and starts: the handlers each
 * service registers before the session's first frame, and what each does
 * once it is up or gone (wiring.ts builds the services; this connects them
 * to the session manager).
 */
import type { Clock } from "./clock/mod.ts";
import type { ContactBook } from "./contacts/mod.ts";
import type { Discovery } from "./discovery/mod.ts";
import type { AnchorFiles, FileService, GroupFiles } from "./files/mod.ts";
import type { IdentityGuard } from "./identity_guard/mod.ts";
import { TWIN_WINDOW_MS } from "./identity_guard/mod.ts";
import { fingerprint } from "./identity/mod.ts";
import type { IntroService } from "./introductions/mod.ts";
import type { DeviceSessions, LinkService } from "./linking/mod.ts";
import type { AnchorMailbox, DirectMail, GroupMailbox, OwnMail } from "./mailbox/mod.ts";
import type { Network } from "./network.ts";
import { CARRY_FEATURE, DIRECT_MAIL_FEATURE, MAILBOX_FEATURE, peerHas } from "./protocol/mod.ts";
import type { Relay } from "./relay/mod.ts";
import type { SessionManager } from "./sessions/mod.ts";
import type { OwnAddresses } from "./addresses/mod.ts";
import type { Receipts, SessionSyncs } from "./chats/mod.ts";
import type { DeviceSync } from "./device_sync/mod.ts";

/** The services a session reaches. */
export interface SessionParts {
  readonly passive: boolean;
  readonly clock: Clock;
  readonly contacts: ContactBook;
  readonly sessions: SessionManager;
  readonly discovery: Discovery;
  /** An anchor's mailbox, or a person's node's carried 1:1 mail. */
  readonly mailboxServer: AnchorMailbox | undefined;
  readonly network: Network;
  readonly relay: Relay;
  readonly intros: IntroService | undefined;
  readonly devices: DeviceSessions;
  readonly syncs: SessionSyncs;
  readonly identity: IdentityGuard;
  readonly receipts: Receipts;
  readonly files: FileService;
  readonly groupFiles: GroupFiles;
  /** An anchor's held group files. */
  readonly anchorFiles: AnchorFiles | undefined;
  readonly addresses: OwnAddresses;
  readonly mailbox: GroupMailbox;
  readonly directMail: DirectMail;
  /** What this device wrote, for the person's other devices (mailbox/own_mail.ts). */
  readonly ownMail: OwnMail;
  readonly linking: LinkService;
  readonly devsync: DeviceSync;
}

/** Registers, on the session manager, what every session serves and starts. */
export function hookSessions(parts: SessionParts): void {
  const {
    passive,
    clock,
    contacts,
    sessions,
    discovery,
    mailboxServer,
    network,
    relay,
    intros,
    devices,
    syncs,
    identity,
    receipts,
    files,
    groupFiles,
    anchorFiles,
    addresses,
    mailbox,
    directMail,
    ownMail,
    linking,
    devsync,
  } = parts;
  // Every session with a contact serves all of these, registered before its first frame.
  sessions.onServe((rpc, peer) => {
    discovery.serve(rpc, peer);
    mailboxServer?.serve(rpc, peer);
    network.serve(rpc, peer);
    relay.serve(rpc, peer);
    intros?.serve(rpc, peer);
    devices.serve(rpc, peer);
    if (!passive) syncs.serve(rpc, peer);
    // The peer holds a live session of our key from another node: told; refused, we wait before dialling again.
    rpc.handle("identity.elsewhere", (p) => {
      identity.elsewhere(contacts.get(peer)?.name ?? fingerprint(peer), p.kept);
      if (!p.kept) sessions.holdOff(peer, clock.now() + TWIN_WINDOW_MS);
      return {};
    });
    if (!passive) receipts.serve(rpc, peer);
    if (!passive) files.serve(rpc, peer);
    anchorFiles?.serve(rpc, peer);
  });
  // Chats sync on every session, each of a contact's devices' (PeerSet); the rest on their primary.
  sessions.onEach((s) => {
    if (!passive && !s.anchor) syncs.up(s, s.contact.name);
    // A contact's device hands over its own address record (its own key's), kept for it.
    if (!passive) devsync.dialler.serve(s);
    devsync.onSession(s);
  });
  sessions.onUp((s) => {
    if (!passive) receipts.up(s);
    if (!passive && !s.anchor) files.up(s.peer).catch(() => {});
    if (!passive) groupFiles.up(s).catch(() => {});
    addresses.noteSeenAs(s.rpc, s.peer);
    discovery.onSession({ peer: s.peer, rpc: s.rpc, anchor: s.anchor }).catch(() => {});
    if (s.anchor && !passive && peerHas(s.rpc.peerHello, MAILBOX_FEATURE)) {
      mailbox.attach(s.peer, s.rpc, s.contact.name);
      if (peerHas(s.rpc.peerHello, DIRECT_MAIL_FEATURE)) {
        directMail.attach(s.peer, s.rpc, s.contact.name, "anchor");
        ownMail.attach(s.peer, s.rpc, s.contact.name);
      }
    }
    if (!s.anchor && !passive && peerHas(s.rpc.peerHello, CARRY_FEATURE)) {
      directMail.attach(s.peer, s.rpc, s.contact.name, "friend");
    }
    if (s.client && s.via === undefined) relay.noteClient(s.peer, s.client);
    relay.onSession({
      peer: s.peer,
      rpc: s.rpc,
      direction: s.direction,
      anchor: s.anchor,
      remote: s.remote,
      path: s.path ?? "direct",
      ...(s.via ? { via: s.via } : {}),
    });
  });
  sessions.onUp((s) => intros?.onSession(s.peer));
  // An introduction made on a contact's device hears our answer on that device's session.
  sessions.onEach((s) => intros?.onDevice(s));
  sessions.onUp((s) => linking.onSession(s.rpc));
  sessions.onDown((s) => {
    discovery.trigger(`lost ${s.contact.name}`).catch(() => {});
    // What they had not taken yet waits for them at an anchor we both use.
    if (!s.anchor && !passive) directMail.written(s.peer);
  });
}
