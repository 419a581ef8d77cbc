/**
 * The node's service graph: every service built once, given what it needs,
 * and connected to the others (who hears of a new session, who takes entries
 * a peer pushed, which handlers serve the API). Nothing starts here; see
 * RojNode.start.
 */
import { OwnAddresses } from "./addresses/mod.ts";
import {
  CatchUpProgress,
  ChatDirectory,
  ChatService,
  GroupService,
  SessionSyncs,
  sftpViewFor,
} from "./chats/mod.ts";
import type { ContactBook, InviteRegistry } from "./contacts/mod.ts";
import { Discovery } from "./discovery/mod.ts";
import { isRojError } from "./errors.ts";
import { EventBus } from "./events.ts";
import { ChunkStore, FileService } from "./files/mod.ts";
import type { GroupBook } from "./groups/mod.ts";
import { createHandlers, type Handlers, statusView } from "./handlers/mod.ts";
import type { Profile } from "./home/mod.ts";
import { discoveryHost, type NodeParts, relayHost } from "./hosts/mod.ts";
import { fingerprint, publicKeyLine, type Signer, type VerifierPool } from "./identity/mod.ts";
import { InviteFlow } from "./invites/mod.ts";
import type { ChatLog } from "./log/mod.ts";
import {
  AnchorMailbox,
  anchorMailboxEvent,
  GroupMailbox,
  mailboxEvent,
  MailboxStore,
} from "./mailbox/mod.ts";
import { Network } from "./network.ts";
import type { ResolvedOptions } from "./options.ts";
import { MAILBOX_FEATURE, peerHas } from "./protocol/mod.ts";
import { Relay } from "./relay/mod.ts";
import { SessionManager } from "./sessions/mod.ts";
import { DeliveryMarks } from "./sync/mod.ts";
import { contactView } from "./views/mod.ts";

/** How long a dial to an address a peer reported may take to find our own key there. */
const SELF_DIAL_MS = 3000;

/** The books a node opens from its store before wiring. */
export interface Books {
  readonly signer: Signer;
  readonly log: ChatLog;
  readonly contacts: ContactBook;
  readonly invites: InviteRegistry;
  readonly groups: GroupBook;
}

/** The services of one node. */
export interface Services {
  readonly bus: EventBus;
  readonly marks: DeliveryMarks;
  readonly directory: ChatDirectory;
  readonly chats: ChatService;
  readonly syncs: SessionSyncs;
  readonly groupService: GroupService;
  readonly progress: CatchUpProgress;
  readonly sessions: SessionManager;
  readonly addresses: OwnAddresses;
  readonly inviteFlow: InviteFlow;
  readonly mailbox: GroupMailbox;
  readonly anchorMailbox: AnchorMailbox | undefined;
  readonly discovery: Discovery;
  readonly relay: Relay;
  readonly network: Network;
  readonly handlers: Handlers;
  readonly files: FileService;
}

/** Builds every service of a node and connects them; nothing starts here. */
export async function wire(
  o: ResolvedOptions,
  profile: Profile,
  b: Books,
  verifier: VerifierPool,
  version: string,
): Promise<Services> {
  const me = profile.keyPair.publicKey;
  const { clock } = o;
  const bus = new EventBus(o.log);
  const marks = new DeliveryMarks(profile.store.kv, { clock });
  const directory = new ChatDirectory(me, b.contacts, b.groups);
  const chats = new ChatService({
    me,
    myName: profile.name,
    signer: b.signer,
    log: b.log,
    store: profile.store,
    marks,
    directory,
    contacts: b.contacts,
    groups: b.groups,
    bus,
  });
  b.log.onFork = (fork) => chats.forkSeen(fork);
  const progress = new CatchUpProgress(bus, clock, b.log, (id) => directory.byId(id)?.name);
  // The network, relay, cascade and group service are built below; closures reach them later.
  const addresses = new OwnAddresses({
    clock,
    bus,
    advertise: o.advertise,
    listening: () => network.listening,
    mapped: () => network.mapped,
    changed: (reason) => discovery.trigger(reason).catch(() => {}),
    // Our own key answering there: the login is refused (we are no contact of ours) after the host key matched.
    selfDial: (to) =>
      sessions.dial({ to, expect: me, expectName: "this node", timeoutMs: SELF_DIAL_MS })
        .then((client) => (client.close(), true))
        .catch((err) => isRojError(err, "refused")),
  });
  const sessions: SessionManager = new SessionManager({
    keyPair: profile.keyPair,
    name: profile.name,
    clock,
    bus,
    contacts: b.contacts,
    passive: o.passive,
    dialTimeoutMs: o.dialTimeoutMs,
    features: () => network.features(relay.enabled),
    localAddress: () => addresses.localAddress(),
    contactChanged: (c) =>
      bus.emit({
        type: "contact",
        contact: contactView(c, sessions.get(c.publicKey) !== undefined, clock.now()),
      }),
  });
  const syncs = new SessionSyncs({
    me,
    log: b.log,
    groups: b.groups,
    contacts: b.contacts,
    verifier,
    directory,
    chats,
    progress,
    bus,
    sessions: () => sessions.all(),
  });
  const mailbox = new GroupMailbox({
    log: b.log,
    kv: profile.store.kv,
    groups: b.groups,
    keyPair: profile.keyPair,
    stored: (chat, entries) => groupService.stored(chat, entries),
    join: (chat, raws, anchor) => groupService.joinFromMailbox(chat, raws, anchor),
    contacts: () => b.contacts.all().filter((c) => !c.blocked && !c.anchor).map((c) => c.publicKey),
    progress: (p) => progress.report(p),
    say: (line) => bus.say(line),
    note: (n) => bus.emit(mailboxEvent(n, (id) => directory.byId(id)?.name)),
    clock,
  });
  const groupService: GroupService = new GroupService({
    me,
    signer: b.signer,
    log: b.log,
    groups: b.groups,
    verifier,
    directory,
    chats,
    syncs,
    mailbox,
    bus,
    clock,
  });
  const pushDirect = (chat: string, peer: Uint8Array) => syncs.pushDirect(chat, sessions.get(peer));
  chats.outlets = { pushDirect, groupWritten: (id) => groupService.reconcile(id) };
  const files = new FileService({
    me,
    signer: b.signer,
    log: b.log,
    kv: profile.store.kv,
    chunks: await ChunkStore.open(profile.paths.dir),
    bus,
    clock,
    limits: o.files,
    chat: (name) => directory.chat(name),
    byId: (id) => directory.byId(id),
    session: (peer) => sessions.get(peer)?.rpc,
    pushDirect,
    show: (chat, e) => bus.emit({ type: "message", message: chats.view(chat, e, 0) }),
  });
  syncs.arrivals = {
    stored: (id, entries) => groupService.stored(id, entries),
    adopt: (id, name, raws, how) => groupService.adopt(id, name, raws, how),
  };
  const parts: NodeParts = {
    keyPair: profile.keyPair,
    name: profile.name,
    signer: b.signer,
    clock,
    bus,
    contacts: b.contacts,
    sessions,
    addresses,
    passive: o.passive,
    relay: () => relay,
    discovery: () => discovery,
  };
  const discovery: Discovery = await Discovery.open(discoveryHost(parts), profile.store, {
    clock,
  });
  const relay: Relay = await Relay.open(relayHost(parts, () => network.server), profile.store);
  const anchorMailbox = o.passive
    ? new AnchorMailbox(await MailboxStore.open(profile.store, o.mailbox), {
      clock,
      log: (line) => bus.say(line),
      note: (n) =>
        bus.emit(anchorMailboxEvent(n, (k) => b.contacts.get(k)?.name ?? fingerprint(k))),
      name: (peer) => b.contacts.get(peer)?.name ?? fingerprint(peer),
    })
    : undefined;
  const inviteFlow = new InviteFlow({
    me,
    name: profile.name,
    signer: b.signer,
    clock,
    bus,
    contacts: b.contacts,
    invites: b.invites,
    sessions,
    passive: o.passive,
    addresses: () => addresses.listenAddresses(),
    inviteAddresses: () => addresses.published(),
    reservedNames: () => directory.reservedNames(),
    added: (c) => {
      discovery.refresh();
      bus.emit({ type: "contact", contact: contactView(c, true, clock.now()) });
    },
    running: () => network.listening !== undefined,
  });
  const network: Network = new Network(o, parts, {
    authorize: (u, k) => inviteFlow.authorize(u, k),
    inbound: (peer, pipe) =>
      sessions.inbound(peer, pipe, {
        lan: (key, host) => network.lanHeardAt(key, host),
        invited: (rpc, key, nonce, remote) => inviteFlow.serveRedeem(rpc, key, nonce, remote),
      }),
    sftpView: (peer) => {
      const c = peer.username === "roj" ? b.contacts.accepted(peer.publicKey) : undefined;
      const view = c
        ? sftpViewFor({
          me,
          log: b.log,
          contacts: b.contacts,
          groups: b.groups,
          directory,
          chats,
          bus,
          groupStored: (id, entries) => groupService.stored(id, entries),
          pushDirect,
        }, c)
        : undefined;
      // The chat's complete files under /files/<chat>/, the chat named as in /chats.
      const name = c ? b.contacts.get(c.publicKey)?.name ?? c.name : "";
      return view && { ...view, files: () => files.sftpFiles(peer.publicKey, name) };
    },
    relay: () => relay,
  });
  // Every session with a contact serves all of these, registered before its first frame.
  sessions.onServe((rpc, peer) => {
    discovery.serve(rpc, peer);
    anchorMailbox?.serve(rpc, peer);
    network.serve(rpc, peer);
    relay.serve(rpc, peer);
    if (!o.passive) syncs.serve(rpc, peer);
    if (!o.passive) files.serve(rpc, peer);
  });
  sessions.onUp((s) => {
    if (!o.passive && !s.anchor) syncs.up(s, s.contact.name);
    if (!o.passive && !s.anchor) files.up(s.peer).catch(() => {});
    addresses.noteSeenAs(s.rpc, s.peer);
    discovery.onSession({ peer: s.peer, rpc: s.rpc, anchor: s.anchor }).catch(() => {});
    if (s.anchor && !o.passive && peerHas(s.rpc.peerHello, MAILBOX_FEATURE)) {
      mailbox.attach(s.peer, s.rpc, s.contact.name);
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
  sessions.onDown((s) => discovery.trigger(`lost ${s.contact.name}`).catch(() => {}));
  const handlers = createHandlers({
    passive: o.passive,
    clock,
    bus,
    contacts: b.contacts,
    directory,
    chats,
    groups: groupService,
    sessions,
    invites: inviteFlow,
    discovery,
    relay,
    files,
    running: () => network.listening !== undefined,
    status: () =>
      statusView({
        name: profile.name,
        keyLine: publicKeyLine(me, profile.name),
        fingerprint: fingerprint(me),
        dataDir: profile.paths.dir,
        version,
        passive: o.passive,
        contacts: b.contacts,
        sessions,
        discovery,
        relay,
        progress,
        listening: network.listening,
        anchorMailbox,
        punch: network.puncher,
        portMap: network.portMap,
      }),
  });
  return {
    bus,
    marks,
    directory,
    chats,
    syncs,
    groupService,
    progress,
    sessions,
    addresses,
    inviteFlow,
    mailbox,
    anchorMailbox,
    discovery,
    relay,
    network,
    handlers,
    files,
  };
}
