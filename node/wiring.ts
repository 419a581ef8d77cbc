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
  memberNamesOf,
  rebaseGroup,
  Receipts,
  RestoreGate,
  SessionSyncs,
  sftpViewFor,
} from "./chats/mod.ts";
import {
  type AgreeKeyOf,
  type ContactBook,
  type InviteRegistry,
  Verifications,
} from "./contacts/mod.ts";
import { Discovery, pairwise } from "./discovery/mod.ts";
import { isRojError } from "./errors.ts";
import { IdentityGuard } from "./identity_guard/mod.ts";
import { directChatId, toHex } from "./log/mod.ts";
import { EventBus } from "./events.ts";
import type { FileService, GroupFiles } from "./files/mod.ts";
import { wireFiles } from "./wiring_files.ts";
import { siblingForget } from "./wiring_forget.ts";
import { type GroupBook, HiddenGroups } from "./groups/mod.ts";
import { createHandlers, type Handlers, statusView } from "./handlers/mod.ts";
import type { Profile } from "./home/mod.ts";
import { discoveryHost, type NodeParts, relayHost } from "./hosts/mod.ts";
import { fingerprint, publicKeyLine, type SyncSigner, type VerifierPool } from "./identity/mod.ts";
import type { InviteFlow } from "./invites/mod.ts";
import { wireInvites } from "./wiring_invites.ts";
import { cardDevices, IntroService } from "./introductions/mod.ts";
import { bytesEqual } from "./wire/mod.ts";
import {
  deviceIdentity,
  DeviceSessions,
  deviceUser,
  LINK_USER,
  LinkService,
  withLiveCertificate,
} from "./linking/mod.ts";
import type { ChatLog } from "./log/mod.ts";
import {
  AnchorMailbox,
  anchorMailboxEvent,
  CARRY_LIMITS,
  type DirectMail,
  GroupMailbox,
  mailboxEvent,
  MailboxStore,
  type OwnMail,
} from "./mailbox/mod.ts";
import { Network } from "./network.ts";
import { hookSessions } from "./session_hooks.ts";
import type { ResolvedOptions } from "./options.ts";
import { DEVLINK_CONFIRM_FEATURE } from "./protocol/mod.ts";
import { Relay } from "./relay/mod.ts";
import { SessionManager } from "./sessions/mod.ts";
import { keys } from "./store/mod.ts";
import { wirePrefs } from "./wiring_prefs.ts";
import type { SearchService } from "./search/mod.ts";
import { wireSearch } from "./wiring_search.ts";
import { wireMail } from "./wiring_mail.ts";
import { DeliveryMarks } from "./sync/mod.ts";
import {
  DeviceSync,
  memberDevices,
  OwnDevices,
  siblingViews,
  withOwnDevices,
} from "./device_sync/mod.ts";
import { contactView } from "./views/mod.ts";

/** How long a dial to an address a peer reported may take to find our own key there. */
const SELF_DIAL_MS = 3000;

/** The books a node opens from its store before wiring. */
export interface Books {
  readonly signer: SyncSigner;
  /** The X25519 keys we and our contacts published (contacts/agreeKeys). */
  readonly agreeKeyOf: AgreeKeyOf;
  readonly log: ChatLog;
  readonly contacts: ContactBook;
  readonly invites: InviteRegistry;
  readonly groups: GroupBook;
}

/** The services of one node. */
export interface Services {
  readonly bus: EventBus;
  readonly marks: DeliveryMarks;
  readonly anchored: DeliveryMarks;
  readonly directory: ChatDirectory;
  readonly chats: ChatService;
  readonly syncs: SessionSyncs;
  readonly groupService: GroupService;
  readonly progress: CatchUpProgress;
  readonly sessions: SessionManager;
  readonly addresses: OwnAddresses;
  readonly inviteFlow: InviteFlow;
  readonly mailbox: GroupMailbox;
  readonly directMail: DirectMail;
  readonly ownMail: OwnMail;
  readonly anchorMailbox: AnchorMailbox | undefined;
  /** A person's node that carries 1:1 mail between its contacts (not `--no-carry`). */
  readonly carryMailbox: AnchorMailbox | undefined;
  readonly discovery: Discovery;
  readonly relay: Relay;
  readonly network: Network;
  readonly handlers: Handlers;
  readonly intros: IntroService | undefined;
  readonly linking: LinkService;
  /** Full-text search over the chats (rebuilt at start). */
  readonly search: SearchService;
  readonly files: FileService;
  /** Sessions with the person's other devices, and dials to contacts' devices (node/device_sync). */
  readonly devsync: DeviceSync;
  readonly groupFiles: GroupFiles;
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
  // A device of a person (roj init --join): it logs in to contacts as one, its certificate in its hello.
  const device = await deviceIdentity(profile.store.kv);
  const bus = new EventBus(o.log);
  const verifications = await Verifications.open(profile.store, me);
  const restoreGate = await RestoreGate.open(profile.store, me);
  const marks = new DeliveryMarks(profile.store.kv, { clock });
  const anchored = new DeliveryMarks(profile.store.kv, { clock, key: keys.anchored });
  // A device's chats are its person's: direct chat ids are the person's key's with each contact's.
  const person = device?.person ?? me;
  const hidden = await HiddenGroups.open(profile.store); // groups deleted from the list
  const own = await OwnDevices.open(profile.store.kv, clock, person, device?.certificate);
  const directory = new ChatDirectory(person, b.contacts, b.groups, hidden);
  const chats = new ChatService({
    me,
    myName: profile.name,
    signer: b.signer,
    personOf: (k) => devices.personOf(k),
    ownPerson: (k) => own.has(k), // the person key's, or another device's of ours
    log: b.log,
    store: profile.store,
    marks,
    anchored,
    directory,
    contacts: b.contacts,
    groups: b.groups,
    bus,
    restoreGate,
  });
  const identity = await IdentityGuard.open({
    me,
    signer: b.signer,
    log: b.log,
    store: profile.store,
    clock,
    bus,
    chatName: (id) => directory.byId(id)?.name ?? id,
    // Both sides sync afresh on a new session: the contact (or each member) learns what we hold.
    resync: (id) => {
      const group = b.groups.get(id);
      for (const s of sessions.every()) {
        const member = group?.membership.members.has(toHex(s.peer));
        if (member || directChatId(me, s.peer) === id) s.rpc.close("identity re-based");
      }
    },
    evidence: (id, seq) => syncs.evidence(id, seq).catch(() => {}),
    written: (id) => {
      if (b.groups.get(id)) return groupService.reconcile(id);
      const s = sessions.all().find((x) => directChatId(me, x.peer) === id);
      if (s) pushDirect(id, s.peer);
    },
    rebaseGroup: (id, aside) =>
      rebaseGroup(
        {
          me,
          signer: b.signer,
          log: b.log,
          groups: b.groups,
          memberName: memberNamesOf(b.groups, (g) => chats.memberName(g)),
        },
        id,
        aside,
      ),
  });
  b.log.onFork = (fork) => {
    chats.forkSeen(fork);
    identity.forkSeen(fork, directory.byId(fork.chat)?.name ?? "a contact");
  };
  // A catch-up's signatures are checked on worker threads: start them with its first heads, so
  // that its first page is not checked here while they load.
  const progress = new CatchUpProgress(
    bus,
    clock,
    b.log,
    (id) => directory.byId(id)?.name,
    () => verifier.warm(),
  );
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
  const sessions: SessionManager = new SessionManager(withLiveCertificate(b.signer, {
    keyPair: profile.keyPair,
    signer: b.signer,
    // Read at each hello: a node started while ssh-agent is absent has its key only later.
    get agree() {
      return b.agreeKeyOf(me);
    },
    ...(device ? { username: deviceUser(device.person) } : {}),
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
        contact: contactView(
          c,
          sessions.get(c.publicKey) !== undefined,
          clock.now(),
          verifications.isVerified(c.publicKey),
        ),
      }),
  }));
  const syncs = new SessionSyncs({
    me: person,
    ...(device ? { author: me } : {}),
    devices: withOwnDevices(own, () => devices),
    directStored: (chat) => devsync.siblings.notify(chat),
    restoreGate,
    log: b.log,
    groups: b.groups,
    contacts: b.contacts,
    verifier,
    directory,
    chats,
    progress,
    bus,
    clock,
    ownChain: identity,
    sessions: () => sessions.every(),
  });
  const mailbox = new GroupMailbox({
    log: b.log,
    kv: profile.store.kv,
    groups: b.groups,
    keyPair: profile.keyPair,
    member: person, // on a device, the person is the member (its key signs)
    devices: memberDevices(b.groups, withOwnDevices(own, () => devices)),
    agreeKeyOf: b.agreeKeyOf,
    stored: (chat, entries) => groupService.stored(chat, entries),
    join: (chat, raws, anchor) => groupService.joinFromMailbox(chat, raws, anchor),
    contacts: () => b.contacts.all().filter((c) => !c.blocked && !c.anchor).map((c) => c.publicKey),
    progress: (p) => progress.report(p),
    say: (line) => bus.say(line),
    note: (n) => bus.emit(mailboxEvent(n, (id) => directory.byId(id)?.name)),
    notified: (anchor, tag) => directMail.notified(anchor, tag) || ownMail.notified(anchor, tag),
    clock,
  });
  const pair = pairwise(profile.keyPair, b.agreeKeyOf);
  const contactName = (k: Uint8Array) => b.contacts.get(k)?.name ?? fingerprint(k);
  const { directMail, ownMail } = wireMail({
    ...b,
    kv: profile.store.kv,
    keyPair: profile.keyPair,
    clock,
    bus,
    marks,
    chats,
    directory,
    own,
    pair,
    contactName,
    late: () => ({ sessions, devsync, devices, pushDirect }),
  });
  const groupService: GroupService = new GroupService({
    me: person, // on a device, the person is the member
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
  const pushDirect = (chat: string, peer: Uint8Array) => {
    for (const s of sessions.of(peer)) syncs.pushDirect(chat, s);
    devsync.siblings.notify(chat); // own mail's too
    directMail.written(peer);
  };
  const devsync = new DeviceSync({ me, own, clock, bus, log: b.log, sessions, pair }, {
    ...{ passive: o.passive, kv: profile.store.kv, contacts: b.contacts, invites: b.invites },
    devices: () => devices,
    forget: siblingForget(() => ({ ...parts, verifications, intros, relay, discovery })),
    stored: (chat, contact, entries) => {
      chats.show(directory.byId(chat)!, entries).catch(() => {});
      pushDirect(chat, contact);
    },
    addresses: () => addresses.published(),
    mail: ownMail,
  });
  const receipts = await Receipts.open({
    me,
    store: profile.store,
    clock,
    bus,
    contacts: b.contacts,
    groups: b.groups,
    directory,
    session: (peer) => sessions.get(peer),
  });
  chats.outlets = {
    pushDirect,
    pushEarly: (chat, peer, made, done) => syncs.pushEarly(chat, sessions.get(peer), made, done),
    online: (peer) => sessions.get(peer) !== undefined,
    groupWritten: (id) => groupService.reconcile(id),
    readDirect: (peer, seq) => receipts.read(peer, seq).catch(() => {}),
    readUpTo: (chat, peer) => receipts.readUpTo(chat, peer),
    readGroup: (id, heads) => receipts.readGroup(id, heads).catch(() => {}),
    groupReadUpTo: (id) => receipts.groupReadUpTo(id),
  };
  const { files, groupFiles, anchorFiles, sftpFiles } = await wireFiles({
    o,
    dataDir: profile.paths.dir,
    me,
    signer: b.signer,
    log: b.log,
    kv: profile.store.kv,
    bus,
    clock,
    groups: b.groups,
    contacts: b.contacts,
    directory,
    chats,
    groupService,
    sessions,
    pushDirect,
  });
  syncs.arrivals = {
    stored: (id, entries) => groupService.stored(id, entries),
    adopt: (id, name, raws, how) => groupService.adopt(id, name, raws, how),
  };
  const parts: NodeParts = {
    keyPair: profile.keyPair,
    agreeKeyOf: b.agreeKeyOf,
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
  const storedId = (k: Uint8Array) => b.contacts.storedId(k);
  const anchorMailbox = o.passive
    ? new AnchorMailbox(await MailboxStore.open(profile.store, o.mailbox, storedId), {
      clock,
      log: (line) => bus.say(line),
      note: (n) =>
        bus.emit(anchorMailboxEvent(n, (k) => b.contacts.get(k)?.name ?? fingerprint(k))),
      name: (peer) => b.contacts.get(peer)?.name ?? fingerprint(peer),
    })
    : undefined;
  const carryMailbox = o.carry
    ? new AnchorMailbox(await MailboxStore.open(profile.store, CARRY_LIMITS), {
      clock,
      log: (line) => bus.say(line),
      name: contactName,
    })
    : undefined;
  const inviteFlow = wireInvites({
    ...{ o, profile, b, bus, sessions, addresses, directory, verifications, own },
    discovery: () => discovery,
    network: () => network,
    vouch: (person, key, cert) => devices.vouch(person, key, cert),
  });
  const linking = await LinkService.open({
    me,
    name: profile.name,
    ...{ signer: b.signer, clock, bus },
    siblings: siblingViews(me, own, profile.name, clock, () => devsync.siblings),
    kv: profile.store.kv,
    addresses: () => addresses.published(),
    online: (k) => sessions.get(k) !== undefined || devsync.siblings.isLive(k),
    contacts: () => b.contacts.all(),
    sessions: () => sessions.all(),
    onePhase: o.omitFeatures.includes(DEVLINK_CONFIRM_FEATURE),
    keyPair: profile.keyPair,
    ...(o.linkHold ? { holdAt: o.linkHold } : {}),
  });
  const devices = await DeviceSessions.open({
    clock,
    bus,
    kv: profile.store.kv,
    contacts: b.contacts,
    sessions,
    blind: o.passive,
  });
  const network: Network = new Network(o, parts, {
    authorize: (u, k) =>
      inviteFlow.authorize(u, k) || (u === LINK_USER && !o.passive && linking.admits(k)) ||
      devices.authorize(u) || (!o.passive && devsync.siblings.authorize(u)),
    inbound: (peer, pipe) =>
      sessions.inbound(peer, pipe, {
        lan: (key, host) => network.lanHeardAt(key, host),
        invited: (rpc, key, nonce, remote) => inviteFlow.serveRedeem(rpc, key, nonce, remote),
        linking: (rpc, key, remote) => linking.serve(rpc, key, remote),
        device: (rpc, peer, person, remote) =>
          devsync.siblings.isOwn(person)
            ? devsync.siblings.inbound(rpc, peer, remote)
            : devices.inbound(rpc, peer, person, remote),
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
      // The chat's and shared groups' complete files under /files/<chat>/, named as in /chats.
      const name = c ? b.contacts.get(c.publicKey)?.name ?? c.name : "";
      return view && { ...view, files: () => sftpFiles(peer.publicKey, name) };
    },
    relay: () => relay,
  });
  const intros = await IntroService.open({
    me: person, // a device introduces as its person; its cards carry its own key (personOf)
    name: profile.name,
    passive: o.passive,
    signer: b.signer,
    clock,
    bus,
    kv: profile.store.kv,
    contacts: b.contacts,
    sessions,
    reservedNames: () => directory.reservedNames(),
    added: (c) => {
      discovery.refresh();
      bus.emit({
        type: "contact",
        contact: contactView(c, false, clock.now(), verifications.isVerified(c.publicKey)),
      });
    },
    dialVia: (peer, via) => relay.dialVia(peer, via),
    lookFor: (reason) => discovery.trigger(reason).catch(() => {}),
    personOf: (k) => own.speaksAt(k, clock.now()) ? person : devices.personOf(k) ?? k,
    devicesOf: (p) =>
      cardDevices(bytesEqual(p, person) ? own.book() : devices.book(p), clock.now()),
    learnDevice: (p, c) =>
      bytesEqual(p, person) ? own.learn(c, clock.now()) : devices.learn(p, c, clock.now()),
  });
  hookSessions({
    passive: o.passive,
    clock,
    contacts: b.contacts,
    sessions,
    discovery,
    mailboxServer: anchorMailbox ?? carryMailbox,
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
  });
  const search = wireSearch({ bus, clock, directory, log: b.log, chats });
  const handlers = createHandlers({
    search,
    prefs: await wirePrefs({ store: profile.store, clock, bus, chats, devsync }),
    ...{ me, verifications, passive: o.passive, clock, bus },
    contacts: b.contacts,
    directory,
    chats,
    receipts,
    groups: groupService,
    sessions,
    invites: inviteFlow,
    discovery,
    relay,
    intros: o.passive ? undefined : intros,
    linking,
    files,
    groupFiles,
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
        carryMailbox,
        anchorFiles,
        punch: network.puncher,
        portMap: network.portMap,
        identity: o.passive ? undefined : identity.view(),
        agent: profile.agent,
      }),
    identity,
  });
  return {
    bus,
    marks,
    anchored,
    directory,
    chats,
    syncs,
    groupService,
    progress,
    sessions,
    addresses,
    inviteFlow,
    mailbox,
    directMail,
    ownMail,
    anchorMailbox,
    carryMailbox,
    discovery,
    relay,
    network,
    handlers,
    intros,
    linking,
    search,
    files,
    devsync,
    groupFiles,
  };
}
