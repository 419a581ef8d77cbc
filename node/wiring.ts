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
import { ChunkStore, FileService } from "./files/mod.ts";
import type { GroupBook } from "./groups/mod.ts";
import { createHandlers, type Handlers, statusView } from "./handlers/mod.ts";
import type { Profile } from "./home/mod.ts";
import { discoveryHost, type NodeParts, relayHost } from "./hosts/mod.ts";
import {
  agreementKeyIsOwn,
  agreementPublicKey,
  fingerprint,
  publicKeyLine,
  type SyncSigner,
  type VerifierPool,
} from "./identity/mod.ts";
import { InviteFlow } from "./invites/mod.ts";
import { IntroService } from "./introductions/mod.ts";
import {
  deviceIdentity,
  DeviceSessions,
  deviceUser,
  LINK_USER,
  LinkService,
} from "./linking/mod.ts";
import type { ChatLog } from "./log/mod.ts";
import {
  AnchorMailbox,
  anchorMailboxEvent,
  CARRY_LIMITS,
  DirectMail,
  directMailEvent,
  GroupMailbox,
  mailboxEvent,
  MailboxStore,
} from "./mailbox/mod.ts";
import { Network } from "./network.ts";
import { hookSessions } from "./session_hooks.ts";
import type { ResolvedOptions } from "./options.ts";
import { encodeB64 } from "./protocol/mod.ts";
import { Relay } from "./relay/mod.ts";
import { SessionManager } from "./sessions/mod.ts";
import { keys } from "./store/mod.ts";
import { ChatPrefs } from "./prefs/mod.ts";
import { SearchService } from "./search/mod.ts";
import { DeliveryMarks } from "./sync/mod.ts";
import { bytesEqual } from "./wire/mod.ts";
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
  const directory = new ChatDirectory(person, b.contacts, b.groups);
  const chats = new ChatService({
    me,
    myName: profile.name,
    signer: b.signer,
    personOf: (k) => devices.personOf(k),
    ...(device ? { ownPerson: (k: Uint8Array) => bytesEqual(k, device.person) } : {}),
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
    // Both sides sync the chat afresh on a new session: the contact (each member, in a group)
    // learns how much of ours we hold now.
    resync: (id) => {
      const group = b.groups.get(id);
      for (const s of sessions.all()) {
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
          memberName: (g) => {
            const group = b.groups.get(g);
            return group ? chats.memberName(group) : (hex) => hex.slice(0, 8);
          },
        },
        id,
        aside,
      ),
  });
  b.log.onFork = (fork) => {
    chats.forkSeen(fork);
    identity.forkSeen(fork, directory.byId(fork.chat)?.name ?? "a contact");
  };
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
    signer: b.signer,
    ...(agreementKeyIsOwn(profile.keyPair) ? { agree: agreementPublicKey(profile.keyPair) } : {}),
    ...(device
      ? { certificate: device.certificate.blob, username: deviceUser(device.person) }
      : {}),
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
  });
  const syncs = new SessionSyncs({
    me: person,
    ...(device ? { author: me } : {}),
    devices: {
      keys: (p) => devices.deviceKeys(p),
      speaksAt: (p, k, at) => devices.speaksAt(p, k, at),
    },
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
    sessions: () => sessions.all(),
  });
  const mailbox = new GroupMailbox({
    log: b.log,
    kv: profile.store.kv,
    groups: b.groups,
    keyPair: profile.keyPair,
    agreeKeyOf: b.agreeKeyOf,
    stored: (chat, entries) => groupService.stored(chat, entries),
    join: (chat, raws, anchor) => groupService.joinFromMailbox(chat, raws, anchor),
    contacts: () => b.contacts.all().filter((c) => !c.blocked && !c.anchor).map((c) => c.publicKey),
    progress: (p) => progress.report(p),
    say: (line) => bus.say(line),
    note: (n) => bus.emit(mailboxEvent(n, (id) => directory.byId(id)?.name)),
    notified: (anchor, tag) => directMail.notified(anchor, tag),
    clock,
  });
  const pair = pairwise(profile.keyPair, b.agreeKeyOf);
  const contactName = (k: Uint8Array) => b.contacts.get(k)?.name ?? fingerprint(k);
  const directMail = new DirectMail({
    log: b.log,
    kv: profile.store.kv,
    keyPair: profile.keyPair,
    agreeKeyOf: b.agreeKeyOf,
    clock,
    contacts: () => b.contacts.all().filter((c) => !c.blocked && !c.anchor).map((c) => c.publicKey),
    online: (peer) => sessions.get(peer) !== undefined,
    delivered: (chat, peer) => marks.get(chat, peer),
    anchored: async (chat, peer, seq) => {
      await chats.markAnchored(chat, peer, seq);
    },
    recordTag: (peer) => encodeB64(pair(peer).tag(peer)),
    receipt: async (chat, _peer, seq) => {
      const ref = directory.byId(chat);
      if (ref) await chats.markDelivered(ref, seq);
    },
    stored: async (chat, _peer, entries) => {
      const ref = directory.byId(chat);
      if (ref) await chats.show(ref, entries);
    },
    say: (line) => bus.say(line),
    note: (n) => bus.emit(directMailEvent(n, contactName)),
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
  const pushDirect = (chat: string, peer: Uint8Array) => {
    syncs.pushDirect(chat, sessions.get(peer));
    directMail.written(peer);
  };
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
    groupWritten: (id) => groupService.reconcile(id),
    readDirect: (peer, seq) => receipts.read(peer, seq).catch(() => {}),
    readUpTo: (chat, peer) => receipts.readUpTo(chat, peer),
  };
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
  const anchorMailbox = o.passive
    ? new AnchorMailbox(await MailboxStore.open(profile.store, o.mailbox), {
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
      bus.emit({
        type: "contact",
        contact: contactView(c, true, clock.now(), verifications.isVerified(c.publicKey)),
      });
    },
    running: () => network.listening !== undefined,
  });
  const linking = await LinkService.open({
    me,
    name: profile.name,
    signer: b.signer,
    clock,
    bus,
    kv: profile.store.kv,
    addresses: () => addresses.published(),
    online: (k) => sessions.get(k) !== undefined,
    contacts: () => b.contacts.all(),
    sessions: () => sessions.all(),
  });
  const devices = await DeviceSessions.open({
    clock,
    bus,
    kv: profile.store.kv,
    contacts: b.contacts,
    sessions,
  });
  const network: Network = new Network(o, parts, {
    authorize: (u, k) =>
      devices.mayLogIn(u, k) &&
      (inviteFlow.authorize(u, k) || (u === LINK_USER && !o.passive && linking.admits()) ||
        devices.authorize(u)),
    inbound: (peer, pipe) =>
      sessions.inbound(peer, pipe, {
        lan: (key, host) => network.lanHeardAt(key, host),
        invited: (rpc, key, nonce, remote) => inviteFlow.serveRedeem(rpc, key, nonce, remote),
        linking: (rpc, key, remote) => linking.serve(rpc, key, remote),
        device: (rpc, peer, person, remote) => devices.inbound(rpc, peer, person, remote),
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
  const intros = await IntroService.open({
    me,
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
    addresses,
    mailbox,
    directMail,
    linking,
  });
  const search = new SearchService({
    bus,
    clock,
    directory,
    async *messages(chat, batch) {
      const entries = await b.log.read(chat.id);
      for (let i = 0; i < entries.length; i += batch) {
        yield await chats.views(chat, entries.slice(i, i + batch));
      }
    },
    countNewer: (chat, lamport) => b.log.countNewer(chat, lamport),
  });
  const handlers = createHandlers({
    search,
    prefs: await ChatPrefs.open(profile.store),
    me,
    verifications,
    passive: o.passive,
    clock,
    bus,
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
  };
}
