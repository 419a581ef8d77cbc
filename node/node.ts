/**
 * A Roj node: one identity, its store, its contacts and chats, its SSH server
 * and its sessions with peers. Wires the parts and serves the local API (the
 * CLI's control socket and the web admin call the same `call`). Holds no
 * module-level state, so several nodes can live in one process.
 */
import { isRojError, RojError } from "./errors.ts";
import { type AskPassphrase, checkName, openProfile, type Profile } from "./home/mod.ts";
import {
  createSigner,
  createVerifierPool,
  fingerprint,
  publicKeyLine,
  type Signer,
  type VerifierPool,
} from "./identity/mod.ts";
import {
  ChatLog,
  compareEntries,
  directChatId,
  type Entry,
  entryFromLine,
  entryToJson,
  notesChatId,
  type RawEntry,
  toHex,
} from "./log/mod.ts";
import { keys } from "./store/mod.ts";
import {
  type CatchUpView,
  type ChatView,
  type ContactView,
  type GroupView,
  type InviteView,
  type MemberView,
  type MessageView,
  type Method,
  type NodeApi,
  type NodeEvent,
  type Params,
  type PeerView,
  type Results,
  type StatusView,
} from "./api/mod.ts";
import {
  type Contact,
  ContactBook,
  createInviteText,
  InviteRegistry,
  mergeAddresses,
  parseInvite,
} from "./contacts/mod.ts";
import {
  dialSsh,
  type Endpoint,
  formatEndpoint,
  type InboundPeer,
  isIPv6Address,
  listenSsh,
  makeQuicCert,
  openQuicService,
  parseEndpoint,
  type Pipe,
  publishableAddresses,
  type QuicService,
  type SftpView,
  type SocketLike,
  type SshClient,
  type SshServer,
  unmapIPv4,
} from "./transport/mod.ts";
import { check, FEATURES, RpcSession } from "./protocol/mod.ts";
import { CatchUp, ChatSync, DeliveryMarks } from "./sync/mod.ts";
import {
  AnchorMailbox,
  GroupMailbox,
  type MailboxLimits,
  type MailboxProgress,
  MailboxStore,
} from "./mailbox/mod.ts";
import {
  checkGroupAppend,
  type Group,
  GroupBook,
  groupExportLines,
  isGroupChatId,
  isGroupOp,
  JoinCandidate,
  MAX_CANDIDATES_PER_SESSION,
  MAX_GROUPS,
} from "./groups/mod.ts";
import { Discovery, type DiscoveryHost, type KnownPeer, pairwise } from "./discovery/mod.ts";
import { Lan, type LanHost } from "./lan/mod.ts";
import { dialHappyEyeballs, type DialRace, type PeerSession, PeerSet } from "./peers/mod.ts";
import { type PortMap, portMapOff, startPortMap } from "./portmap/mod.ts";
import { localNetworks, natView } from "./reach/mod.ts";
import { PUNCH_FEATURE, Puncher, type PunchHost, type PunchResult } from "./punch/mod.ts";
import {
  DIAL_BACK_TIMEOUT_MS,
  Relay,
  type RelayHost,
  type RelayOptions,
  type RelayTiming,
} from "./relay/mod.ts";

export const VERSION = "0.1.0";

export interface NodeOptions {
  /** The data folder, already resolved (see home/resolveDataDir). */
  dataDir: string;
  /** Asked when the key is protected by a passphrase. */
  ask?: AskPassphrase;
  /** Clock in ms. @default Date.now */
  now?: () => number;
  /** One line per event (connections, refusals, deliveries). @default no logging */
  log?: (line: string) => void;
}

export interface StartOptions {
  /** Where the SSH server listens; "::" takes IPv4 too (0.0.0.0 where there is no IPv6). @default [::]:7022 */
  listen?: Endpoint;
  /** Run as a passive anchor: hold sealed records for members, run no chats. @default false */
  passive?: boolean;
  /** Publish these "host:port" addresses instead of the listening ones. @default [] */
  advertise?: string[];
  /** How often to look for changed interface addresses when listening everywhere. @default 5000 */
  interfacePollMs?: number;
  /** Timeout for each dial. @default 5000 */
  dialTimeoutMs?: number;
  /** A passive anchor's group mailbox bounds. @default DEFAULT_MAILBOX_LIMITS */
  mailbox?: Partial<MailboxLimits>;
  /** Serve QUIC on the listen port (UDP) and punch through NATs. @default true */
  quic?: boolean;
  /** Relaying for contacts (`enabled: false` is `--no-relay`), its limits, and its timers. @default relay/resolveRelayLimits */
  relay?: RelayOptions & RelayTiming;
  /** Ask the LAN gateway (UPnP-IGD / NAT-PMP) to forward the listen port; `roj run` sets it unless `--no-upnp`. @default false */
  portMap?: boolean;
  /** Internal (tests): the lease asked of the router, renewed at half. @default 3_600_000 */
  portMapLeaseMs?: number;
  /**
   * Find contacts on the same LAN by multicast announcements (node/lan); not
   * when listening on loopback. Off by default here so that tests stay off the
   * machine's network; `roj run` turns it on (`--no-lan` turns it off).
   * @default false
   */
  lan?: boolean;
}

/** How a chat is named on the command line and in the admin. */
export interface ChatRef {
  readonly id: string;
  readonly kind: "notes" | "direct" | "group";
  readonly name: string;
  /** For a direct chat, the contact. */
  readonly peer?: Contact;
  /** For a group chat, the group. */
  readonly group?: Group;
}

/** The chat syncs of one session: the direct chat, the groups shared with the peer, and groups being offered to us. */
interface SessionSyncs {
  readonly peer: Uint8Array;
  readonly direct: ChatSync;
  /** Group syncs (by chat id) while the peer is a member, as this node sees it. */
  readonly groups: Map<string, ChatSync>;
  /** Groups the peer pushes that we are not (yet) in: scratch logs, see groups/join_candidate.ts. */
  readonly pending: Map<string, { candidate: JoinCandidate; sync: ChatSync }>;
  /** Set once the session is kept (see #attach); syncs start only then. */
  attached: boolean;
}

/** How long a member waits before passing received group entries on (see #forwardLater). */
const FORWARD_DELAY_MS = 100;

const isWildcard = (host: string) => host === "0.0.0.0" || host === "::";

export class RojNode implements NodeApi {
  readonly profile: Profile;
  readonly signer: Signer;
  readonly log: ChatLog;
  readonly contacts: ContactBook;
  readonly invites: InviteRegistry;
  readonly groups: GroupBook;
  readonly #now: () => number;
  readonly #logLine: (line: string) => void;
  readonly #listeners = new Set<(e: NodeEvent) => void>();
  readonly #peers: PeerSet;
  #server: SshServer | null = null;
  /** The UDP endpoint: SSH over QUIC, punch probes (see punch/). */
  #quic: QuicService | undefined;
  #punch: Puncher | undefined;
  #portMap: PortMap | undefined;
  /** Multicast announcements to and from contacts on the same LAN. */
  #lan: Lan | undefined;
  #dialTimeoutMs = 5000;
  #closing = false;
  #discovery!: Discovery;
  #relay!: Relay;
  /** A passive anchor: holds sealed records for members, runs no chats, dials nobody. */
  #passive = false;
  /** Addresses to publish instead of the listening ones (port forwards, VPS names). */
  #advertise: string[] = [];
  /** How each contact's current address was learnt (hex → "direct", "via bob", …). */
  readonly #learntVia = new Map<string, string>();
  /** The last dial failure per contact, logged once per change. */
  readonly #dialErrors = new Map<string, string>();
  /** IPs peers report seeing us at, for publishing when we listen everywhere. */
  readonly #seenAs = new Set<string>();
  #interfacesTimer: ReturnType<typeof setInterval> | undefined;
  #interfaces = "";
  readonly #clients = new Set<SshClient>();
  readonly #rpcSync = new WeakMap<RpcSession, SessionSyncs>();
  /** Checks signatures; large merges (catch-up) on worker threads. */
  readonly #verifier: VerifierPool;
  /** How far each peer holds our entries; see sync/delivery_marks.ts. */
  readonly #marks: DeliveryMarks;
  /** Authors' fingerprints by key (hex), for message views. */
  readonly #fingerprints = new Map<string, string>();
  /** Departures told to a peer (group/peer/departure entry), see #farewell. */
  readonly #farewells = new Set<string>();
  /** Per group, the message events still being prepared (decrypted) for display. */
  readonly #showing = new Map<string, Promise<void>>();
  /** Syncs whose start() is under way. */
  readonly #starting = new WeakSet<ChatSync>();
  /** A member's side of its anchors' group mailboxes. */
  readonly #mailbox: GroupMailbox;
  /** A passive anchor's group mailbox. */
  #anchorMailbox: AnchorMailbox | undefined;
  /** Per group, a forward of received entries waiting (see #forwardLater). */
  readonly #forwarding = new Map<string, ReturnType<typeof setTimeout>>();
  /** Catch-ups under way, for status. */
  readonly #catchUps = new Map<string, CatchUpView>();

  private constructor(
    profile: Profile,
    signer: Signer,
    log: ChatLog,
    contacts: ContactBook,
    invites: InviteRegistry,
    groups: GroupBook,
    verifier: VerifierPool,
    options: NodeOptions,
  ) {
    this.groups = groups;
    this.#verifier = verifier;
    this.#marks = new DeliveryMarks(profile.store.kv);
    this.profile = profile;
    this.signer = signer;
    this.log = log;
    this.contacts = contacts;
    this.invites = invites;
    this.#now = options.now ?? Date.now;
    this.#logLine = options.log ?? (() => {});
    this.#peers = new PeerSet(profile.keyPair.publicKey);
    this.#mailbox = new GroupMailbox({
      log,
      kv: profile.store.kv,
      groups,
      keyPair: profile.keyPair,
      stored: (chat, entries) => this.#groupStored(chat, entries),
      join: (chat, raws, anchor) => this.#joinFromMailbox(chat, raws, anchor),
      contacts: () =>
        this.contacts.all().filter((c) => !c.blocked && !c.anchor).map((c) => c.publicKey),
      progress: (p) => this.#progress(p),
      say: (line) => this.#say(line),
    });
  }

  /** A catch-up moved: an event always, a log line at its start, end and each quarter. */
  #progress(p: MailboxProgress): void {
    const chat = this.#chatById(p.chat)?.name ?? p.chat;
    const k = `${p.chat}/${p.from}`;
    const view: CatchUpView = { chat, from: p.from, done: p.done, total: p.total };
    const before = this.#catchUps.get(k);
    if (p.done >= p.total) this.#catchUps.delete(k);
    else this.#catchUps.set(k, view);
    const quarter = (v: CatchUpView | undefined) => v ? Math.floor((v.done * 4) / v.total) : -1;
    if (!before || p.done >= p.total || quarter(before) !== quarter(view)) {
      this.#say(
        p.done >= p.total
          ? `caught up ${chat} from ${p.from}: ${p.total} entries`
          : `catching up ${chat} from ${p.from}: ${p.done} of ${p.total} entries`,
      );
    }
    this.#emit({ type: "progress", progress: view });
  }

  /** Progress of a sync of `chat` with `peer` on `rpc`, fed by its heads and stored entries. */
  #catchUp(chat: string, peer: Uint8Array, rpc: RpcSession): {
    heads(theirs: ReadonlyMap<string, { seq: number }>): void;
    stored(n: number): void;
  } {
    const from = () => this.#peerName(peer);
    const c = new CatchUp((p) => this.#progress({ chat, from: from(), ...p }), { now: this.#now });
    rpc.onClose(() => {
      const p = c.progress;
      c.end();
      if (p) this.#progress({ chat, from: from(), done: p.total, total: p.total });
    });
    let asked = false;
    return {
      heads: (theirs) => {
        if (asked) return;
        asked = true;
        this.log.heads(chat).then((ours) => c.expect(theirs, ours)).catch(() => {});
      },
      stored: (n) => c.stored(n),
    };
  }

  /** Opens the node in an initialised data folder. @throws {RojError} */
  static async open(options: NodeOptions): Promise<RojNode> {
    const profile = await openProfile(options.dataDir, options.ask);
    const verifier = createVerifierPool();
    try {
      const now = options.now ?? Date.now;
      const signer = await createSigner(profile.keyPair);
      const log = new ChatLog(profile.store, { verifier, now });
      const contacts = await ContactBook.open(profile.store);
      const invites = await InviteRegistry.open(profile.store, now());
      const groups = await GroupBook.open(profile.store, log, profile.keyPair);
      const node = new RojNode(
        profile,
        signer,
        log,
        contacts,
        invites,
        groups,
        verifier,
        options,
      );
      node.#discovery = await Discovery.open(node.#discoveryHost(), profile.store);
      node.#relay = await Relay.open(node.#relayHost(), profile.store);
      return node;
    } catch (err) {
      verifier.close();
      profile.store.close();
      throw err;
    }
  }

  get publicKey(): Uint8Array {
    return this.profile.keyPair.publicKey;
  }

  get name(): string {
    return this.profile.name;
  }

  /** The key as an OpenSSH public key line, with the name as comment. */
  get keyLine(): string {
    return publicKeyLine(this.publicKey, this.name);
  }

  get fingerprint(): string {
    return fingerprint(this.publicKey);
  }

  /** Relayed sessions and reachability (node/relay): counters and a test tap. */
  get relay(): Relay {
    return this.#relay;
  }

  /** The SSH server's address once started. */
  get address(): Endpoint | null {
    return this.#server?.address ?? null;
  }

  #emit(event: NodeEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch { /* a listener's failure is its own */ }
    }
  }

  #say(line: string): void {
    this.#logLine(line);
    this.#emit({ type: "log", line });
  }

  subscribe(listener: (event: NodeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ---- chats ---------------------------------------------------------------

  /** Finds a chat by the name a person types. @throws {RojError} not_found */
  chat(name: string): ChatRef {
    if (name === "notes") return { id: notesChatId(this.publicKey), kind: "notes", name: "notes" };
    const c = this.contacts.byName(name);
    if (c && !c.blocked) {
      return {
        id: directChatId(this.publicKey, c.publicKey),
        kind: "direct",
        name: c.name,
        peer: c,
      };
    }
    const g = this.groups.byName(name) ?? (isGroupChatId(name) ? this.groups.get(name) : undefined);
    if (g) return { id: g.id, kind: "group", name: g.name, group: g };
    throw new RojError("not_found", `no chat called ${JSON.stringify(name.slice(0, 60))}`);
  }

  /** A group by its name or id. @throws {RojError} not_found */
  #group(name: string): Group {
    const ref = this.chat(name);
    if (!ref.group) {
      throw new RojError("not_found", `no group called ${JSON.stringify(name.slice(0, 60))}`);
    }
    return this.groups.get(ref.id)!;
  }

  /** Chat names a contact may not take: "notes" and the groups'. */
  #reservedNames(): string[] {
    return ["notes", ...this.groups.all().map((g) => g.name)];
  }

  /** Names taken by chats on this node: a new group must not reuse them. */
  #takenNames(): string[] {
    return [...this.#reservedNames(), ...this.contacts.all().map((c) => c.name)];
  }

  #chatById(id: string): ChatRef | undefined {
    if (id === notesChatId(this.publicKey)) return this.chat("notes");
    const g = this.groups.get(id);
    if (g) return { id, kind: "group", name: g.name, group: g };
    for (const c of this.contacts.all()) {
      if (directChatId(this.publicKey, c.publicKey) === id) {
        return { id, kind: "direct", name: c.name, peer: c };
      }
    }
    return undefined;
  }

  /** Who must hold our entries for them to count as delivered: the contact; in a group, anyone. */
  #deliveryTo(chat: ChatRef): Uint8Array | null {
    if (chat.peer) return chat.peer.publicKey;
    if (chat.kind === "group") return this.publicKey;
    return null;
  }

  #delivered(chat: ChatRef): Promise<number> {
    const who = this.#deliveryTo(chat);
    return who ? this.#marks.get(chat.id, who) : Promise.resolve(0);
  }

  /** Entries as views; a group's are decrypted, which needs the chat's history before them. */
  async #views(
    chat: ChatRef,
    entries: readonly Entry[],
    delivered?: number,
  ): Promise<MessageView[]> {
    const d = delivered ?? await this.#delivered(chat);
    if (chat.kind !== "group") return entries.map((e) => this.#view(chat, e, d));
    const g = this.groups.get(chat.id);
    if (!g) return entries.map((e) => this.#view(chat, e, d, "(cannot decrypt)"));
    const all = this.groups.context(chat.id, entries);
    const lines = await this.groups.lines(chat.id, entries, this.#memberName(g), { all });
    return lines.map((l) => this.#view(chat, l.entry, d, l.text));
  }

  /** How a group member (hex) is shown here: me, a contact's name, the name they were added under. */
  #memberName(g: Group): (hex: string) => string {
    return (hex) => {
      if (hex === toHex(this.publicKey)) return this.name;
      const key = g.membership.ever.get(hex);
      const c = key && this.contacts.get(key);
      if (c) return c.name;
      return g.membership.names.get(hex) ?? (key ? fingerprint(key) : hex.slice(0, 16));
    };
  }

  #view(chat: ChatRef, e: Entry, delivered: number, body = e.body): MessageView {
    const hex = toHex(e.author);
    const mine = hex === toHex(this.publicKey);
    // A catch-up shows thousands of messages by one author: hash its key once.
    let fp = this.#fingerprints.get(hex);
    if (fp === undefined) {
      if (this.#fingerprints.size >= 1024) this.#fingerprints.clear();
      this.#fingerprints.set(hex, fp = fingerprint(e.author));
    }
    const author = mine ? this.name : this.contacts.get(e.author)?.name ?? fp;
    return {
      chat: chat.name,
      seq: e.seq,
      author,
      authorFingerprint: fp,
      mine,
      ts: e.ts,
      lamport: e.lamport,
      type: e.type,
      body,
      state: !mine
        ? "received"
        : chat.kind === "notes" || e.seq <= delivered
        ? "delivered"
        : "stored",
      hash: toHex(e.hash),
    };
  }

  /** Adds a note to self. Resolves once it is committed. */
  note(text: string): Promise<Entry> {
    if (text.trim() === "") throw new RojError("bad_input", "the note is empty");
    return this.log.append(this.chat("notes").id, this.signer, "msg", text);
  }

  /** A chat's entries in display order; the newest `last` with `last`. */
  read(name: string, options: { last?: number } = {}): Promise<Entry[]> {
    return this.log.read(this.chat(name).id, options);
  }

  async #send(chatName: string, text: string): Promise<MessageView> {
    if (text.trim() === "") throw new RojError("bad_input", "the message is empty");
    const chat = this.chat(chatName);
    if (chat.kind === "group") return await this.#sendGroup(chat, text);
    const e = await this.log.append(chat.id, this.signer, "msg", text);
    // Push first: delivery latency should not wait on reading the delivery state.
    if (chat.peer) this.#notifySync(chat.id, chat.peer.publicKey);
    const view = this.#view(chat, e, await this.#delivered(chat));
    this.#emit({ type: "message", message: view });
    return view;
  }

  async #sendGroup(chat: ChatRef, text: string): Promise<MessageView> {
    const entries = await this.groups.send(this.signer, chat.id, text);
    const views = await this.#views(chat, entries);
    for (const v of views) this.#emit({ type: "message", message: v });
    this.#reconcileGroup(chat.id);
    return views.at(-1)!;
  }

  /** Local entries changed in `chat`: push them to `peer` if a session is up. */
  #notifySync(chat: string, peer: Uint8Array): void {
    const s = this.#peers.get(peer);
    const st = s && this.#rpcSync.get(s.rpc);
    if (st?.attached && st.direct.chat === chat) st.direct.notify().catch(() => {});
  }

  async #unread(chat: ChatRef): Promise<number> {
    const mark = await this.profile.store.kv.get<number>(keys.readMark(chat.id));
    const seen = typeof mark.value === "number" ? mark.value : 0;
    return await this.log.countNewer(chat.id, seen, { except: this.publicKey, limit: 10_000 });
  }

  // ---- the local API ------------------------------------------------------

  /** Serves one API call; params must have passed api/parseCall. */
  async call<M extends Exclude<Method, "follow">>(
    method: M,
    params: Params<M>,
  ): Promise<Results[M]> {
    const p = params as Record<string, unknown>;
    if (
      this.#passive && (["send", "note", "read", "chats"].includes(method) ||
        method.startsWith("group."))
    ) {
      throw new RojError("refused", "this node is a passive anchor: it runs no chats");
    }
    switch (method) {
      case "status":
        return this.#status() as Results[M];
      case "send":
        return this.#send(p.chat as string, p.text as string) as Promise<Results[M]>;
      case "note": {
        const e = await this.note(p.text as string);
        const view = this.#view(this.chat("notes"), e, 0);
        this.#emit({ type: "message", message: view });
        return view as Results[M];
      }
      case "read": {
        const chat = this.chat(p.chat as string);
        const entries = await this.log.read(
          chat.id,
          p.last !== undefined ? { last: p.last as number } : {},
        );
        if (p.markRead !== false && entries.length > 0) {
          const clock = await this.profile.store.kv.get<number>(keys.chatClock(chat.id));
          await this.profile.store.kv.set(
            keys.readMark(chat.id),
            typeof clock.value === "number" ? clock.value : entries.at(-1)!.lamport,
          );
        }
        return await this.#views(chat, entries) as Results[M];
      }
      case "chats":
        return this.#chats() as Promise<Results[M]>;
      case "contacts":
        return this.contacts.all().filter((c) => !c.blocked).map((c) =>
          this.#contactView(c)
        ) as Results[M];
      case "invite":
        return this.#invite(
          p.expiresIn as number | undefined,
          p.uses as number | undefined,
        ) as Promise<Results[M]>;
      case "rename": {
        const c = this.#contactByName(p.name as string);
        const renamed = await this.contacts.rename(
          c.publicKey,
          checkName(p.to as string),
          this.#reservedNames(),
        );
        this.#say(`renamed ${c.name} to ${renamed.name}`);
        this.#emit({ type: "contact", contact: this.#contactView(renamed) });
        return this.#contactView(renamed) as Results[M];
      }
      case "remove":
      case "block": {
        const c = this.#contactByName(p.name as string);
        if (method === "remove") {
          await this.contacts.remove(c.publicKey);
          await this.#relay.forget(c.publicKey);
        } else await this.contacts.update(c.publicKey, { blocked: true });
        this.#peers.get(c.publicKey)?.rpc.close(method === "remove" ? "removed" : "blocked");
        this.#emit({ type: "contact", contact: { ...this.#contactView(c), online: false } });
        this.#say(`${method === "remove" ? "removed" : "blocked"} ${c.name}`);
        this.#discovery.refresh();
        return (method === "remove" ? { removed: c.name } : { blocked: c.name }) as Results[M];
      }
      case "peers":
        return this.#peerViews() as Results[M];
      case "connect":
        return this.#connect(p.address as string) as Promise<Results[M]>;
      case "add":
        return this.#add(p.invite as string, p.name as string | undefined) as Promise<Results[M]>;
      case "group.create": {
        const g = await this.groups.create(this.signer, p.name as string, this.#takenNames());
        this.#say(`created group ${g.name} (${g.id})`);
        return this.#groupView(g) as Results[M];
      }
      case "group.add": {
        const g = this.#group(p.group as string);
        const people = (p.members as string[]).map((n) => {
          const c = this.#contactByName(n);
          return { key: c.publicKey, name: c.name };
        });
        const entries = await this.groups.add(this.signer, g.id, people);
        return await this.#groupChanged(g.id, entries) as Results[M];
      }
      case "group.remove":
      case "group.promote": {
        const g = this.#group(p.group as string);
        const who = this.#memberByName(g, p.member as string);
        const e = method === "group.remove"
          ? await this.groups.remove(this.signer, g.id, who)
          : await this.groups.promote(this.signer, g.id, who);
        return await this.#groupChanged(g.id, [e]) as Results[M];
      }
      case "group.leave": {
        const g = this.#group(p.group as string);
        const e = await this.groups.leave(this.signer, g.id);
        await this.#groupChanged(g.id, [e]);
        return { left: g.name } as Results[M];
      }
      case "group.members":
        return this.#groupView(this.#group(p.group as string)).members as Results[M];
      default:
        throw new RojError("bad_input", `unknown method ${String(method)}`);
    }
  }

  #groupView(g: Group): GroupView {
    const latest = this.groups.get(g.id) ?? g;
    const name = this.#memberName(latest);
    const me = toHex(this.publicKey);
    const members: MemberView[] = [...latest.membership.members.entries()]
      .sort((a, b) => a[1].joined - b[1].joined)
      .map(([hex, m]) => ({
        name: name(hex),
        fingerprint: fingerprint(m.key),
        admin: latest.membership.admins.has(hex),
        me: hex === me,
      }));
    return { name: latest.name, id: latest.id, members };
  }

  /**
   * A current member of `g` by the name shown here, their fingerprint, or
   * (for someone not a contact) the name they were added under.
   * @throws {RojError} not_found
   */
  #memberByName(g: Group, wanted: string): Uint8Array {
    const name = this.#memberName(g);
    const lower = wanted.toLowerCase();
    for (const [hex, m] of g.membership.members) {
      if (name(hex).toLowerCase() === lower || fingerprint(m.key) === wanted) return m.key;
    }
    throw new RojError(
      "not_found",
      `${JSON.stringify(wanted.slice(0, 40))} is not a member of ${g.name}`,
    );
  }

  /** After a local membership change: show it and push it to everyone concerned. */
  async #groupChanged(id: string, entries: Entry[]): Promise<GroupView> {
    const g = this.groups.get(id)!;
    const ref: ChatRef = { id, kind: "group", name: g.name, group: g };
    for (const v of await this.#views(ref, entries)) {
      this.#emit({ type: "message", message: v });
      this.#say(`group ${g.name}: ${v.body}`);
    }
    this.#reconcileGroup(id);
    return this.#groupView(g);
  }

  /** @throws {RojError} not_found */
  #contactByName(name: string): Contact {
    const c = this.contacts.byName(name);
    if (!c || c.blocked) {
      throw new RojError("not_found", `no contact called ${JSON.stringify(name.slice(0, 40))}`);
    }
    return c;
  }

  #listenAddresses(): string[] {
    const a = this.#server?.address;
    if (!a) return [];
    // A router's port mapping first: it is the address that works from outside.
    const mapped = this.#portMap?.external ? [this.#portMap.external] : [];
    if (!isWildcard(a.host)) return [...mapped, formatEndpoint(a)];
    // Listening everywhere: every non-loopback interface address, then what peers see us at.
    const seen = [...this.#seenAs].map((ip) => formatEndpoint({ host: ip, port: a.port }));
    const local = this.#interfaceAddresses();
    if (local === null) return [formatEndpoint({ host: "127.0.0.1", port: a.port })];
    return mapped.concat(local.map((host) => formatEndpoint({ host, port: a.port })))
      .concat(seen)
      .filter((x, i, all) => all.indexOf(x) === i)
      .slice(0, 8);
  }

  /** The machine's addresses to publish (transport/publishableAddresses); null when they cannot be read. */
  #interfaceAddresses(): string[] | null {
    try {
      return publishableAddresses(Deno.networkInterfaces(), this.#server?.address.host === "::");
    } catch {
      return null;
    }
  }

  #status(): StatusView {
    return {
      name: this.name,
      publicKey: this.keyLine,
      fingerprint: this.fingerprint,
      dataDir: this.profile.paths.dir,
      listen: this.#server ? [formatEndpoint(this.#server.address)] : [],
      contacts: this.contacts.all().filter((c) => !c.blocked).length,
      online: this.#peers.all().length,
      version: VERSION,
      ...(this.#passive
        ? {
          passive: true,
          members: this.contacts.all().filter((c) => !c.blocked).length,
          records: this.#discovery.sealed.size,
          sessions: this.#peers.all().length,
          ...(this.#anchorMailbox
            ? {
              mailbox: {
                ...this.#anchorMailbox.store.usage,
                duplicates: this.#anchorMailbox.store.duplicates,
              },
            }
            : {}),
        }
        : {}),
      ...(this.#catchUps.size > 0 ? { catchingUp: [...this.#catchUps.values()] } : {}),
      ...(this.#relay.reachable !== undefined ? { reachable: this.#relay.reachable } : {}),
      ...natView(this.#punch?.mapping),
      relay: {
        enabled: this.#relay.enabled,
        active: this.#relay.active,
        bytes: this.#relay.bytesRelayed,
      },
      ...(this.#portMap ? { portMap: this.#portMap.status } : {}),
    };
  }

  #contactView(c: Contact): ContactView {
    const online = this.#peers.get(c.publicKey) !== undefined;
    return {
      name: c.name,
      publicKey: publicKeyLine(c.publicKey),
      fingerprint: fingerprint(c.publicKey),
      online,
      lastSeen: online ? this.#now() : c.lastSeen,
      addresses: c.addresses,
    };
  }

  async #chats(): Promise<ChatView[]> {
    const refs: ChatRef[] = [
      this.chat("notes"),
      ...this.contacts.all().filter((c) => !c.blocked).map((c) => this.chat(c.name)),
      ...this.groups.all().map((g): ChatRef => ({
        id: g.id,
        kind: "group",
        name: g.name,
        group: g,
      })),
    ];
    const out: ChatView[] = [];
    for (const chat of refs) {
      const [last] = await this.log.read(chat.id, { last: 1 });
      out.push({
        name: chat.name,
        id: chat.id,
        kind: chat.kind,
        unread: await this.#unread(chat),
        last: last ? (await this.#views(chat, [last]))[0]! : null,
      });
    }
    return out;
  }

  async #invite(expiresIn = 86_400, uses = 1): Promise<InviteView> {
    const addresses = this.#advertise.length > 0 ? this.#advertise : this.#listenAddresses();
    if (addresses.length === 0) {
      throw new RojError("no_node", "the node is not listening; start it with `roj run`");
    }
    const nonce = crypto.getRandomValues(new Uint8Array(16));
    const expires = this.#now() + expiresIn * 1000;
    await this.invites.issue(toHex(nonce), expires, uses);
    const text = await createInviteText(this.signer, {
      name: this.name,
      addresses,
      expires,
      nonce,
    });
    this.#say(
      `issued an invite valid until ${new Date(expires).toISOString()} for ${uses} use${
        uses === 1 ? "" : "s"
      }`,
    );
    return { text, expires, addresses };
  }

  async #add(text: string, name: string | undefined): Promise<ContactView> {
    const invite = await parseInvite(text, this.#now());
    if (toHex(invite.publicKey) === toHex(this.publicKey)) {
      throw new RojError("bad_input", "this is your own invite");
    }
    if (!this.#server) {
      throw new RojError("no_node", "the node is not running; start it with `roj run`");
    }
    const petname = name ?? invite.name;
    let lastError: RojError | undefined;
    for (const addr of invite.addresses) {
      let to: Endpoint;
      try {
        to = parseEndpoint(addr);
      } catch {
        continue;
      }
      let client: SshClient | undefined;
      try {
        client = await this.#dial(
          to,
          invite.publicKey,
          invite.name,
          `invite-${toHex(invite.nonce)}`,
        );
        const pipe = await client.openRoj();
        const rpc = this.#rpc(pipe, invite.publicKey);
        await rpc.ready;
        const res = check(
          "invite.redeem",
          "result",
          await rpc.request("invite.redeem", {
            nonce: toHex(invite.nonce),
            name: this.name,
            addresses: this.#listenAddresses(),
          }),
        );
        const contact = await this.contacts.add(
          invite.publicKey,
          petname,
          [addr],
          this.#now(),
          this.#reservedNames(),
        );
        this.#say(
          `added ${contact.name} (${res.name}, ${fingerprint(contact.publicKey)}) at ${addr}`,
        );
        this.#attach(contact, rpc, "out", addr, client);
        this.#discovery.refresh();
        this.#emit({ type: "contact", contact: this.#contactView(contact) });
        return this.#contactView(contact);
      } catch (err) {
        client?.close();
        if (!(err instanceof RojError)) throw err;
        lastError = err.code === "refused"
          ? new RojError(
            "refused",
            `${invite.name} did not accept this invite (already used, expired or withdrawn)`,
          )
          : err;
      }
    }
    throw lastError ?? new RojError("bad_input", "the invite holds no address to reach its maker");
  }

  // ---- sessions -------------------------------------------------------------

  /** A protocol session on `pipe`; with `peer`, its sync is served from the first frame on. */
  #rpc(pipe: Pipe, peer?: Uint8Array): RpcSession {
    const rpc = new RpcSession(pipe, {
      hello: {
        features: [
          ...FEATURES,
          ...(this.#passive ? ["anchor", "mailbox"] : []),
          ...(this.#quic ? [PUNCH_FEATURE] : []),
          ...(this.#relay.enabled ? ["relay"] : []),
        ],
        name: this.name,
        sees: pipe.remote,
      },
      onInternalError: (m, err) =>
        this.#say(`internal error serving ${m}: ${(err as Error)?.stack ?? err}`),
    });
    if (peer) this.#serve(rpc, peer);
    return rpc;
  }

  /** Everything a contact may ask on a session, registered before its first frame. */
  #serve(rpc: RpcSession, peer: Uint8Array): void {
    this.#discovery.serve(rpc, peer);
    this.#anchorMailbox?.serve(rpc, peer);
    this.#punch?.serve(rpc, peer);
    this.#relay.serve(rpc, peer);
    if (!this.#passive) this.#serveSync(rpc, peer);
  }

  #localAddress(): string | undefined {
    const a = this.#server?.address;
    return a && !isWildcard(a.host) ? a.host : undefined;
  }

  #dial(to: Endpoint, key: Uint8Array, name: string, username = "roj", signal?: AbortSignal) {
    const local = this.#localAddress();
    return dialSsh({
      keyPair: this.profile.keyPair,
      to,
      expectedKey: key,
      expectedName: name,
      username,
      timeoutMs: this.#dialTimeoutMs,
      ...(local ? { localAddress: local } : {}),
      ...(signal ? { signal } : {}),
    }).then((client) => {
      this.#clients.add(client);
      client.onClose(() => this.#clients.delete(client));
      return client;
    });
  }

  /**
   * Serves the peer's sync requests on `rpc` for the chats we share: the
   * direct chat, the groups in which the peer is a member (as this node sees
   * it), and groups the peer offers us that we are not in yet (see
   * groups/join_candidate.ts). Done before anything else is said on an invite
   * session, so the peer's first request never arrives before its handler.
   */
  #serveSync(rpc: RpcSession, peer: Uint8Array): SessionSyncs {
    const known = this.#rpcSync.get(rpc);
    if (known) return known;
    const chatId = directChatId(this.publicKey, peer);
    const name = () => this.contacts.get(peer)?.name ?? fingerprint(peer);
    const chat = (): ChatRef =>
      this.#chatById(chatId) ?? { id: chatId, kind: "direct", name: name() };
    const directProgress = this.#catchUp(chatId, peer, rpc);
    const direct = new ChatSync(this.log, rpc, chatId, {
      members: () => [this.publicKey, peer],
      onPeerHeads: (heads) => {
        directProgress.heads(heads);
        const mine = heads.get(toHex(this.publicKey));
        if (mine) this.#markDelivered(chat(), mine.seq).catch(() => {});
      },
      onStored: (entries) => {
        directProgress.stored(entries.length);
        const ref = chat();
        for (const e of entries) this.#emit({ type: "message", message: this.#view(ref, e, 0) });
      },
      log: (line) => this.#say(`${name()}: ${line}`),
    });
    const st: SessionSyncs = {
      peer,
      direct,
      groups: new Map(),
      pending: new Map(),
      attached: false,
    };
    /** Requests about one group chat we are not in, one at a time (see #offered). */
    const offers = new Map<string, Promise<unknown>>();
    /** Groups offered by this peer that we dropped: asked again, they get not_found. */
    const dropped = new Set<string>();
    const serve = <T>(p: unknown, answer: (sync: ChatSync) => Promise<T>): Promise<T> => {
      const id = (p as { chat?: unknown })?.chat;
      if (id === chatId) return answer(direct);
      if (typeof id !== "string" || !isGroupChatId(id) || this.#passive) {
        throw new RojError("not_found", "no such chat");
      }
      const sync = this.#groupRoute(rpc, st, id);
      if (sync) return answer(sync);
      if (dropped.has(id)) throw new RojError("not_found", "no such chat");
      const prior = offers.get(id) ?? Promise.resolve();
      const run = prior.then(() => this.#offered(rpc, st, id, dropped, answer));
      const settled = run.catch(() => {});
      offers.set(id, settled);
      settled.then(() => {
        if (offers.get(id) === settled) offers.delete(id);
      });
      return run;
    };
    rpc.handle("sync.heads", (p) => {
      check("sync.heads", "params", p);
      return serve(p, (sync) => sync.answerHeads());
    });
    rpc.handle("sync.push", (p) => serve(p, (sync) => sync.answerPush(p)));
    rpc.onClose(() => {
      for (const { candidate } of st.pending.values()) candidate.close();
      st.pending.clear();
    });
    this.#rpcSync.set(rpc, st);
    return st;
  }

  /**
   * The sync serving group `id` with this session's peer, when we are a
   * member and so is the peer (as this node sees it); created on first use.
   */
  #groupRoute(rpc: RpcSession, st: SessionSyncs, id: string): ChatSync | undefined {
    const g = this.groups.get(id);
    const me = toHex(this.publicKey);
    if (!g || !g.membership.members.has(me) || !g.membership.members.has(toHex(st.peer))) {
      return undefined;
    }
    let sync = st.groups.get(id);
    if (!sync) {
      sync = this.#groupSync(rpc, st, id);
      // The peer syncs with us, so it counts us in: if our side had not started, start it.
      if (st.attached) this.#startSync(sync, st.peer);
    }
    return sync;
  }

  /** A ChatSync for group `id` on this session; entries by anyone who was ever a member. */
  #groupSync(rpc: RpcSession, st: SessionSyncs, id: string): ChatSync {
    const peerName = () => this.contacts.get(st.peer)?.name ?? fingerprint(st.peer);
    const progress = this.#catchUp(id, st.peer, rpc);
    const sync = new ChatSync(this.log, rpc, id, {
      members: () => this.groups.everMembers(id),
      onPeerHeads: (heads) => {
        progress.heads(heads);
        const mine = heads.get(toHex(this.publicKey));
        const ref = this.#chatById(id);
        if (mine && ref) this.#markDelivered(ref, mine.seq).catch(() => {});
      },
      onStored: (entries) => {
        progress.stored(entries.length);
        return this.#groupStored(id, entries).catch((err) =>
          this.#say(`group ${id}: ${(err as Error).message}`)
        );
      },
      log: (line) => this.#say(`${peerName()}: ${line}`),
    });
    st.groups.set(id, sync);
    return sync;
  }

  /** Starts (or restarts, after a refusal) a sync; a failure is logged and left for the next kick. */
  #startSync(sync: ChatSync, peer: Uint8Array): void {
    if (sync.started) {
      sync.notify().catch(() => {});
      return;
    }
    if (this.#starting.has(sync)) return;
    this.#starting.add(sync);
    sync.start().catch((err) => {
      // A member who does not count us in yet answers not_found; they sync with us once they do.
      if (!isRojError(err, "not_found")) {
        const who = this.contacts.get(peer)?.name ?? fingerprint(peer);
        this.#say(`sync of ${sync.chat} with ${who} failed: ${(err as Error).message}`);
      }
    }).finally(() => this.#starting.delete(sync));
  }

  /**
   * A peer syncs a group we are not in (a new member learning of it, or
   * someone re-added): keep its entries in a scratch log until they make us a
   * member, then adopt the group. Runs one request at a time per group.
   */
  async #offered<T>(
    rpc: RpcSession,
    st: SessionSyncs,
    id: string,
    dropped: Set<string>,
    answer: (sync: ChatSync) => Promise<T>,
  ): Promise<T> {
    const adopted = this.#groupRoute(rpc, st, id);
    if (adopted) return await answer(adopted);
    let pending = st.pending.get(id);
    if (!pending) {
      if (
        st.pending.size >= MAX_CANDIDATES_PER_SESSION ||
        (!this.groups.get(id) && this.groups.size >= MAX_GROUPS) || rpc.closed
      ) throw new RojError("not_found", "no such chat");
      const known = this.groups.get(id)
        ? (await this.log.read(id)).map((e) => ({ signed: e.signed, sig: e.sig }))
        : [];
      const candidate = await JoinCandidate.open(id, this.#verifier, known);
      if (rpc.closed) {
        candidate.close();
        throw new RojError("not_found", "no such chat");
      }
      const sync = new ChatSync(candidate.log, rpc, id, {
        onStored: (entries) => candidate.took(entries),
      });
      pending = { candidate, sync };
      st.pending.set(id, pending);
    }
    const result = await answer(pending.sync);
    const { candidate } = pending;
    const drop = (why: string) => {
      st.pending.delete(id);
      candidate.close();
      dropped.add(id);
      this.#say(`dropped group ${id} offered by ${this.#peerName(st.peer)}: ${why}`);
    };
    if (await candidate.overflowing()) {
      drop("too much history before it named us a member");
      return result;
    }
    const m = await candidate.membership();
    if (!m.members.has(toHex(this.publicKey))) return result;
    // We are a member: move everything by its members into the store.
    const raws = await candidate.raws(new Set(m.ever.keys()));
    st.pending.delete(id);
    candidate.close();
    await this.#adopt(id, m.name, raws, `offered by ${this.#peerName(st.peer)}`);
    return result;
  }

  /** Takes in a group that names us a member: its entries, its registration, the news. */
  async #adopt(id: string, name: string | null, raws: RawEntry[], how: string): Promise<void> {
    await this.log.merge(id, raws);
    const g = this.groups.get(id)
      ? (await this.groups.refresh(id), this.groups.get(id)!)
      : await this.groups.register(id, name ?? "group", this.#takenNames());
    this.#say(`joined group ${g.name} (${id}), ${how}`);
    const ref: ChatRef = { id, kind: "group", name: g.name, group: g };
    for (const v of await this.#views(ref, await this.log.read(id, { last: 50 }))) {
      this.#emit({ type: "message", message: v });
    }
    this.#reconcileGroup(id);
  }

  /**
   * A group an anchor holds mail for, pointed out to us by a member: adopt it
   * if its entries name us a member (checked in a scratch log, as #offered).
   */
  async #joinFromMailbox(id: string, raws: RawEntry[], anchor: string): Promise<boolean> {
    const me = toHex(this.publicKey);
    if (this.groups.get(id)?.membership.members.has(me)) return true;
    if (!this.groups.get(id) && this.groups.size >= MAX_GROUPS) return false;
    const known = this.groups.get(id)
      ? (await this.log.read(id)).map((e) => ({ signed: e.signed, sig: e.sig }))
      : [];
    const candidate = await JoinCandidate.open(id, this.#verifier, known);
    try {
      await candidate.log.merge(id, raws);
      const m = await candidate.membership();
      if (!m.members.has(me)) return false;
      await this.#adopt(
        id,
        m.name,
        await candidate.raws(new Set(m.ever.keys())),
        `through ${anchor}`,
      );
      return true;
    } finally {
      candidate.close();
    }
  }

  #peerName(peer: Uint8Array): string {
    return this.contacts.get(peer)?.name ?? fingerprint(peer);
  }

  /**
   * A peer pushed group entries we did not have: refold if membership moved
   * (before the push is answered), then show them and pass them on.
   */
  async #groupStored(id: string, entries: Entry[]): Promise<void> {
    if (entries.some((e) => isGroupOp(e.type))) {
      const { before, after } = await this.groups.refresh(id);
      const me = toHex(this.publicKey);
      const g = this.groups.get(id);
      if (g && before.members.has(me) && !after.members.has(me)) {
        this.#say(`you are no longer a member of group ${g.name}`);
      }
      this.#reconcileGroup(id);
    } else this.#forwardLater(id);
    const ref = this.#chatById(id);
    if (!ref) return;
    // Not awaited: decrypting needs the chat's history, and the peer need not wait for it.
    // Queued per group, so events keep the order the entries arrived in.
    const shown = (this.#showing.get(id) ?? Promise.resolve())
      .then(() => this.#views(ref, entries))
      .then((views) => {
        for (const v of views) this.#emit({ type: "message", message: v });
      }).catch(() => {});
    this.#showing.set(id, shown);
    shown.then(() => {
      if (this.#showing.get(id) === shown) this.#showing.delete(id);
    });
  }

  /**
   * Passes entries received from one member on to the others, a moment later
   * and only what each lacks: first their heads, then a push of the rest. In
   * a well-connected group the author's own push has reached nearly everyone
   * by then, so a forward costs one small request instead of every member
   * re-sending (and every receiver re-verifying) every entry to every other;
   * in a 20-member full mesh that flood took a message ~2 s to reach all
   * (bench group; ~0.3 s with this). Costs the entries that do need a forwarder up to
   * 2 x FORWARD_DELAY_MS per hop.
   */
  #forwardLater(id: string): void {
    if (this.#forwarding.has(id) || this.#closing) return;
    const delay = FORWARD_DELAY_MS * (1 + Math.random());
    this.#forwarding.set(
      id,
      setTimeout(() => {
        this.#forwarding.delete(id);
        if (this.#closing) return;
        this.#mailbox.received(id);
        for (const s of this.#peers.all()) {
          const sync = this.#rpcSync.get(s.rpc)?.groups.get(id);
          if (sync?.started && !s.rpc.closed) sync.start().catch(() => {});
        }
      }, delay),
    );
  }

  /**
   * Brings every live session in line with group `id`: a sync with each peer
   * who is a member (started, or notified of new entries) while we are one;
   * a last push, then none, for peers who are not (any more).
   */
  #reconcileGroup(id: string): void {
    this.#mailbox.changed(id);
    const g = this.groups.get(id);
    const meIn = g?.membership.members.has(toHex(this.publicKey)) ?? false;
    for (const s of this.#peers.all()) {
      const st = this.#rpcSync.get(s.rpc);
      if (!st?.attached || s.rpc.closed) continue;
      const want = meIn && g!.membership.members.has(toHex(s.peer));
      const sync = st.groups.get(id);
      if (want) this.#startSync(sync ?? this.#groupSync(s.rpc, st, id), s.peer);
      else {
        if (sync) st.groups.delete(id);
        // Our leaving (or removal) goes to the members; their removal goes to them.
        if (!meIn && g?.membership.members.has(toHex(s.peer))) {
          this.#farewell(s.rpc, id, s.peer, this.publicKey).catch(() => {});
        } else if (sync && meIn) this.#farewell(s.rpc, id, s.peer, s.peer).catch(() => {});
      }
    }
  }

  /**
   * Tells `peer` that `who` is out of group `id` (them: an admin removed
   * them; us: we left or were removed), by pushing the group's history up to
   * that departure and nothing after it (no later member, message or key).
   * Once per peer and departure while this node runs.
   */
  async #farewell(rpc: RpcSession, id: string, peer: Uint8Array, who: Uint8Array): Promise<void> {
    const d = await this.groups.departure(id, toHex(who));
    // Someone who left knows it; a member removed may not.
    if (!d || rpc.closed || (d.op === "leave" && toHex(who) === toHex(peer))) return;
    const k = `${id}/${toHex(peer)}/${toHex(d.entry.hash)}`;
    if (this.#farewells.has(k)) return;
    this.#farewells.add(k);
    const sync = new ChatSync(this.log, rpc, id, {
      members: () => this.groups.everMembers(id),
      until: (e) => compareEntries(e, d.entry) <= 0,
    });
    try {
      await sync.start();
    } catch {
      this.#farewells.delete(k); // they may count us out already, or the session failed
    }
  }

  /** Makes a session live: serve the peer, start syncing the chats we share, exchange addresses. */
  #attach(
    contact: Contact,
    rpc: RpcSession,
    direction: "in" | "out",
    remote: string,
    client?: SshClient,
    path: "direct" | "punched" | "lan" = "direct",
    via?: string,
  ): void {
    // A dial or handshake that completes while the node is stopping gets no session.
    if (this.#closing) {
      rpc.close("node stopping");
      client?.close();
      return;
    }
    const session: PeerSession = {
      peer: contact.publicKey,
      direction,
      rpc,
      remote,
      since: this.#now(),
      path,
      ...(via !== undefined ? { via } : {}),
    };
    const k = toHex(contact.publicKey);
    const anchor = rpc.peerHello?.features.includes("anchor") ?? false;
    if (!this.#peers.add(session)) {
      client?.close();
      return;
    }
    const st = this.#passive || anchor ? undefined : this.#serveSync(rpc, contact.publicKey);
    if (st) st.attached = true;
    if (client && via === undefined) this.#relay.noteClient(contact.publicKey, client);
    this.#dialErrors.delete(k);
    if (direction === "in" && !this.#learntVia.has(k)) {
      this.#learntVia.set(k, "direct (they dialled)");
    }
    this.#say(
      `connected to ${contact.name}${anchor ? " (anchor)" : ""} (${
        path === "punched" ? "punched (udp) " : path === "lan" ? "lan " : ""
      }${remote}, ${direction === "out" ? "we dialled" : "they dialled"})`,
    );
    this.#noteSeenAs(rpc);
    this.contacts.update(contact.publicKey, {
      lastSeen: this.#now(),
      ...(anchor !== contact.anchor ? { anchor } : {}),
      // An anchor keeps no member's address; a person remembers where a contact answered.
      // A punched UDP endpoint or a relay is no address to dial over TCP.
      ...(direction === "out" && !this.#passive && path === "direct" && via === undefined
        ? { addresses: mergeAddresses([remote], contact.addresses) }
        : {}),
    }).then((c) => this.#emit({ type: "contact", contact: this.#contactView(c) })).catch(() => {});
    rpc.onClose((reason) => {
      client?.close();
      if (!this.#peers.remove(session)) return;
      this.#say(`disconnected from ${contact.name}${reason ? `: ${reason}` : ""}`);
      const latest = this.contacts.get(contact.publicKey);
      if (latest) {
        this.contacts.update(contact.publicKey, { lastSeen: this.#now() }).catch(() => {});
        this.#emit({ type: "contact", contact: this.#contactView(latest) });
      }
      if (!this.#closing) this.#discovery.trigger(`lost ${contact.name}`).catch(() => {});
    });
    st?.direct.start().catch((err) => {
      if (!rpc.closed) this.#say(`sync with ${contact.name} failed: ${(err as Error).message}`);
    });
    if (st) {
      // Groups the peer asked about before the session was kept, then every group we share.
      for (const sync of st.groups.values()) this.#startSync(sync, contact.publicKey);
      for (const g of this.groups.sharedWith(contact.publicKey)) {
        if (!st.groups.has(g.id)) {
          this.#startSync(this.#groupSync(rpc, st, g.id), contact.publicKey);
        }
      }
      // Departures they may have missed: theirs from groups we are in, ours from groups they are in.
      const me = toHex(this.publicKey);
      for (const g of this.groups.all()) {
        const m = g.membership;
        if (m.members.has(me) && m.ever.has(k) && !m.members.has(k)) {
          this.#farewell(rpc, g.id, contact.publicKey, contact.publicKey).catch(() => {});
        } else if (!m.members.has(me) && m.ever.has(me) && m.members.has(k)) {
          this.#farewell(rpc, g.id, contact.publicKey, this.publicKey).catch(() => {});
        }
      }
    }
    this.#discovery.onSession({ peer: contact.publicKey, rpc, anchor }).catch(() => {});
    if (anchor && !this.#passive && rpc.peerHello?.features.includes("mailbox")) {
      this.#mailbox.attach(contact.publicKey, rpc, contact.name);
    }
    this.#relay.onSession({
      peer: contact.publicKey,
      rpc,
      direction,
      anchor,
      remote,
      path,
      ...(via ? { via } : {}),
    });
  }

  /** A peer tells us the address it sees us at; publish it if we listen everywhere and it is new. */
  #noteSeenAs(rpc: RpcSession): void {
    const sees = rpc.peerHello?.sees;
    const a = this.#server?.address;
    if (!sees || !a || !isWildcard(a.host) || this.#advertise.length > 0) return;
    try {
      const ip = unmapIPv4(parseEndpoint(sees).host); // an older peer may say ::ffff:a.b.c.d
      if (this.#seenAs.has(ip) || ip.startsWith("127.") || ip === "::1") return;
      this.#seenAs.add(ip);
      this.#say(`a peer sees us at ${ip}`);
      this.#discovery.trigger("a peer sees us at a new address").catch(() => {});
    } catch { /* not an address */ }
  }

  async #markDelivered(chat: ChatRef, seq: number): Promise<void> {
    const who = this.#deliveryTo(chat);
    if (who && await this.#marks.raise(chat.id, who, seq)) {
      this.#emit({ type: "delivered", chat: chat.name, seq });
    }
  }

  #authorize(username: string, publicKey: Uint8Array): boolean {
    if (username === "roj") return this.contacts.accepted(publicKey) !== undefined;
    const m = /^invite-([0-9a-f]{32})$/.exec(username);
    if (m) {
      return this.invites.isValid(m[1]!, this.#now()) && !this.contacts.get(publicKey)?.blocked;
    }
    return false;
  }

  #onInbound(peer: InboundPeer, pipe: Pipe): void {
    const remote = peer.via !== undefined ? `via ${peer.via}` : formatEndpoint(peer.remote);
    const contact = peer.username === "roj" ? this.contacts.accepted(peer.publicKey) : undefined;
    const rpc = this.#rpc(pipe, contact?.publicKey);
    if (contact) {
      const path = peer.transport === "quic"
        ? "punched"
        : this.#lan?.heardAt(contact.publicKey, peer.remote.host)
        ? "lan"
        : "direct";
      // The connection exists for this session: when the session ends (lost,
      // or replaced by the peer's newer connection, e.g. after its NAT gave it
      // a new port) the connection goes too, and so do the relayed channels
      // spliced through it, which would otherwise lead nowhere for minutes.
      rpc.onClose(() => peer.close());
      rpc.ready.then(() => this.#attach(contact, rpc, "in", remote, undefined, path, peer.via))
        .catch(
          () => {},
        );
      return;
    }
    const nonce = /^invite-([0-9a-f]{32})$/.exec(peer.username)?.[1];
    if (!nonce) return rpc.close("not accepted");
    rpc.handle("invite.redeem", async (p) => {
      const params = check("invite.redeem", "params", p);
      if (params.nonce !== nonce || !await this.invites.consume(nonce, this.#now())) {
        throw new RojError("refused", "this invite is no longer valid");
      }
      const addresses = params.addresses.filter((a) => {
        try {
          parseEndpoint(a);
          return true;
        } catch {
          return false;
        }
      });
      const added = await this.contacts.add(
        peer.publicKey,
        params.name,
        this.#passive ? [] : addresses,
        this.#now(),
        this.#reservedNames(),
      );
      this.#say(
        `${added.name} (${fingerprint(added.publicKey)}) accepted an invite from ${remote}`,
      );
      // Serve before answering, so bob's first request finds its handler.
      this.#serve(rpc, added.publicKey);
      queueMicrotask(() => {
        this.#attach(added, rpc, "in", remote);
        this.#discovery.refresh();
      });
      this.#emit({ type: "contact", contact: this.#contactView(added) });
      return { name: this.name };
    });
  }

  /**
   * What a contact sees with plain OpenSSH `sftp`: the chats they are a member
   * of (our direct chat, the groups in which both of us are members), as
   * export lines, and appends of entries they signed (groups/group_sftp.ts).
   */
  #sftpView(peer: InboundPeer): SftpView | undefined {
    const contact = peer.username === "roj" ? this.contacts.accepted(peer.publicKey) : undefined;
    if (!contact) return undefined;
    const chatId = directChatId(this.publicKey, contact.publicKey);
    const sharedGroup = (chat: string) =>
      this.groups.sharedWith(contact.publicKey).find((g) => g.id === chat);
    const mustBeShared = (chat: string) => {
      if (chat !== chatId && !sharedGroup(chat)) throw new RojError("not_found", "no such chat");
    };
    const checkLine = async (chat: string, line: string): Promise<Entry> => {
      mustBeShared(chat);
      if (chat !== chatId) {
        return await checkGroupAppend(this.groups, chat, contact.publicKey, line);
      }
      const e = await entryFromLine(line);
      if (toHex(e.author) !== toHex(contact.publicKey)) {
        throw new RojError("refused", `entry is signed by ${fingerprint(e.author)}, not by you`);
      }
      if (e.chat !== chat) throw new RojError("wrong_chat", "entry belongs to another chat");
      return e;
    };
    return {
      list: () =>
        Promise.resolve([
          { name: this.contacts.get(contact.publicKey)?.name ?? contact.name, chat: chatId },
          ...this.groups.sharedWith(contact.publicKey).map((g) => ({ name: g.name, chat: g.id })),
        ]),
      read: async (chat) => {
        mustBeShared(chat);
        const entries = await this.log.read(chat);
        const g = sharedGroup(chat);
        const lines = g
          ? await groupExportLines(
            this.groups,
            chat,
            entries,
            contact.publicKey,
            this.#memberName(g),
          )
          : entries.map((e) => JSON.stringify(entryToJson(e)) + "\n");
        return new TextEncoder().encode(lines.join(""));
      },
      check: async (chat, line) => {
        await checkLine(chat, line);
      },
      append: async (chat, lines) => {
        const entries = await Promise.all(lines.map((l) => checkLine(chat, l)));
        const res = await this.log.merge(chat, entries, { allOrNothing: true });
        if (res.rejected.length > 0) {
          throw new RojError("bad_input", `${res.rejected[0]!.reason}; nothing was stored`);
        }
        const ref = this.#chatById(chat);
        if (ref?.kind === "group") await this.#groupStored(chat, res.stored);
        else if (ref) {
          for (const e of res.stored) {
            this.#emit({ type: "message", message: this.#view(ref, e, 0) });
          }
        }
        this.#notifySync(chat, contact.publicKey);
        this.#say(
          `${contact.name} appended ${res.stored.length} entr${
            res.stored.length === 1 ? "y" : "ies"
          } to ${ref?.name ?? chat} over sftp`,
        );
        return res.stored.length;
      },
    };
  }

  /** Dials one address of a contact; true when a session is up. Logs a failure once per change of reason. */
  async #dialAt(
    contact: Contact,
    addr: string,
    upgrade = false,
    path: "direct" | "lan" = "direct",
    race?: DialRace,
  ): Promise<boolean> {
    const current = this.#peers.get(contact.publicKey);
    // Upgrading: a session through a relay does not stop a direct dial.
    if (this.#closing || (current && !(upgrade && current.via !== undefined))) return false;
    let client: SshClient | undefined;
    try {
      const to = parseEndpoint(addr);
      client = await this.#dial(to, contact.publicKey, contact.name, "roj", race?.signal);
      const rpc = this.#rpc(await client.openRoj(), contact.publicKey);
      await rpc.ready;
      // Another of their addresses answered first (peers/happy_eyeballs): that session stays.
      if (race && !race.claim()) throw new Error("another address answered first");
      this.#attach(contact, rpc, "out", addr, client, path);
      return this.#peers.get(contact.publicKey)?.rpc === rpc;
    } catch (err) {
      client?.close();
      if (race?.signal.aborted) return false; // lost the race: nothing to report
      const k = toHex(contact.publicKey);
      const line = `cannot reach ${contact.name} at ${addr}: ${(err as Error).message}`;
      if (this.#dialErrors.get(k) !== line) this.#say(line);
      this.#dialErrors.set(k, line);
      return false;
    }
  }

  #discoveryHost(): DiscoveryHost {
    // deno-lint-ignore no-this-alias
    const self = this;
    const known = (c: Contact): KnownPeer => ({
      publicKey: c.publicKey,
      name: c.name,
      addresses: c.addresses,
      anchor: c.anchor,
      recordSeq: c.recordSeq,
    });
    return {
      keyPair: this.profile.keyPair,
      signer: this.signer,
      get passive() {
        return self.#passive;
      },
      now: () => this.#now(),
      log: (line) => this.#say(line),
      peers: () => (this.#passive ? [] : this.contacts.all().filter((c) => !c.blocked).map(known)),
      sessions: () =>
        this.#peers.all().map((s) => ({
          peer: s.peer,
          rpc: s.rpc,
          anchor: this.contacts.get(s.peer)?.anchor ?? false,
        })),
      session: (peer) => {
        const s = this.#peers.get(peer);
        return s
          ? { peer: s.peer, rpc: s.rpc, anchor: this.contacts.get(peer)?.anchor ?? false }
          : undefined;
      },
      dial: (p, addr, race) => {
        const c = this.contacts.accepted(p.publicKey);
        return c ? this.#dialAt(c, addr, false, "direct", race) : Promise.resolve(false);
      },
      learnt: async (peer, record, via) => {
        const c = this.contacts.get(peer);
        if (!c || record.seq <= c.recordSeq) return;
        await this.contacts.update(peer, {
          addresses: mergeAddresses(record.addresses, []),
          recordSeq: record.seq,
        });
        this.#learntVia.set(toHex(peer), via);
        await this.#relay.learnt(peer, record.relays);
        this.#say(
          `learnt ${c.name}'s addresses ${via}: ${
            record.addresses.join(", ")
          } (record ${record.seq})`,
        );
      },
      addresses: () => (this.#advertise.length > 0 ? this.#advertise : this.#listenAddresses()),
      relays: () => this.#relay.relays(),
      dialRelayed: (p) => this.#relay.dialRelayed(p.publicKey),
    };
  }

  #relayHost(): RelayHost {
    const contact = (peer: Uint8Array) => {
      const c = this.contacts.accepted(peer);
      if (!c) throw new RojError("not_found", `${fingerprint(peer)} is not a contact`);
      return c;
    };
    const view = (s: PeerSession) => ({
      peer: s.peer,
      rpc: s.rpc,
      direction: s.direction,
      anchor: this.contacts.get(s.peer)?.anchor ?? false,
      remote: s.remote,
      ...(s.path !== undefined ? { path: s.path } : {}),
      ...(s.via !== undefined ? { via: s.via } : {}),
    });
    // deno-lint-ignore no-this-alias
    const self = this;
    return {
      self: this.publicKey,
      get passive() {
        return self.#passive;
      },
      now: () => this.#now(),
      log: (line) => this.#say(line),
      nameOf: (peer) => this.#peerName(peer),
      accepts: (peer) => this.contacts.accepted(peer) !== undefined,
      known: (peer) => this.contacts.get(peer) !== undefined,
      session: (peer) => {
        const s = this.#peers.get(peer);
        return s ? view(s) : undefined;
      },
      sessions: () => this.#peers.all().map(view),
      dialClient: async (peer) => {
        const c = contact(peer);
        let last: unknown = new RojError("unreachable", `no address known for ${c.name}`);
        for (const addr of c.addresses) {
          try {
            return await this.#dial(parseEndpoint(addr), c.publicKey, c.name);
          } catch (err) {
            last = err;
          }
        }
        throw last;
      },
      serveStream: (stream, via) => {
        if (!this.#server) throw new RojError("no_node", "the node is not running");
        this.#server.serveStream(stream, via);
      },
      dialOver: async (stream, peer, via) => {
        const c = contact(peer);
        if (this.#closing) return false;
        const client = await dialSsh({
          keyPair: this.profile.keyPair,
          to: { host: `${c.name} via ${via}`, port: 0 },
          sock: stream,
          expectedKey: c.publicKey,
          expectedName: c.name,
          timeoutMs: this.#dialTimeoutMs,
        });
        this.#clients.add(client);
        client.onClose(() => this.#clients.delete(client));
        try {
          const rpc = this.#rpc(await client.openRoj(), c.publicKey);
          await rpc.ready;
          this.#attach(c, rpc, "out", `via ${via}`, client, "direct", via);
          return this.#peers.get(c.publicKey)?.rpc === rpc;
        } catch (err) {
          client.close();
          throw err;
        }
      },
      dialDirect: async (peer) => {
        const c = contact(peer);
        return await dialHappyEyeballs(c.addresses, (a, race) => {
          return this.#dialAt(c, a, true, "direct", race);
        }, { isIPv6: isIPv6Address });
      },
      dialBack: async (to, peer) => {
        const local = this.#localAddress();
        try {
          const client = await dialSsh({
            keyPair: this.profile.keyPair,
            to,
            expectedKey: peer,
            expectedName: this.#peerName(peer),
            timeoutMs: DIAL_BACK_TIMEOUT_MS,
            ...(local ? { localAddress: local } : {}),
          });
          client.close();
          return true;
        } catch {
          return false;
        }
      },
      addresses: () => (this.#advertise.length > 0 ? this.#advertise : this.#listenAddresses()),
      localNetworks: () => localNetworks(),
      republish: (reason) => {
        this.#discovery.trigger(reason).catch(() => {});
      },
    };
  }

  /**
   * Starts the SSH server and dials every contact.
   * @throws {RojError} bad_input when the address cannot be listened on.
   */
  async start(options: StartOptions = {}): Promise<void> {
    if (this.#server) throw new RojError("exists", "the node is already started");
    this.#dialTimeoutMs = options.dialTimeoutMs ?? 5000;
    this.#passive = options.passive ?? false;
    if (this.#passive) {
      const store = await MailboxStore.open(this.profile.store, options.mailbox);
      this.#anchorMailbox = new AnchorMailbox(store, {
        now: () => this.#now(),
        log: (line) => this.#say(line),
        name: (peer) => this.#peerName(peer),
      });
      this.#anchorMailbox.startSweeping();
    }
    this.#advertise = (options.advertise ?? []).map((a) => formatEndpoint(parseEndpoint(a)));
    const listen = options.listen ?? { host: "::", port: 7022 };
    this.#relay.start(options.relay, options.relay);
    this.#server = await listenSsh({
      keyPair: this.profile.keyPair,
      host: listen.host,
      port: listen.port,
      authorize: (u, k) => this.#authorize(u, k),
      onRoj: (peer, pipe) => this.#onInbound(peer, pipe),
      sftpView: (peer) => this.#sftpView(peer),
      onStream: (peer, subsystem, accept) => this.#relay.onChannel(peer, subsystem, accept),
      log: (line) => this.#say(line),
    });
    this.#say(
      `listening on ${formatEndpoint(this.#server.address)} as ${this.name} ${this.fingerprint}`,
    );
    if (options.quic ?? true) await this.#startQuic(this.#server);
    this.#portMap = !options.portMap
      ? portMapOff("--no-upnp")
      : this.#advertise.length > 0
      ? portMapOff("--advertise names the address")
      : startPortMap({
        port: this.#server.address.port,
        host: this.#server.address.host,
        udp: this.#quic !== undefined,
        log: (line) => this.#say(line),
        onChange: () => this.#discovery.trigger("port mapped").catch(() => {}),
        ...(options.portMapLeaseMs ? { leaseMs: options.portMapLeaseMs } : {}),
      });
    if (options.lan && !this.#passive && !/^(127\.|::1$|localhost$)/.test(listen.host)) {
      this.#lan = new Lan(this.#lanHost());
      if (!await this.#lan.start()) this.#lan = undefined;
    }
    if (this.#passive) {
      this.#say(
        `passive anchor: ${this.contacts.all().length} members, ${this.#discovery.sealed.size} sealed records held`,
      );
      return;
    }
    this.#discovery.trigger("start").catch(() => {});
    // When listening everywhere, a new interface address (a new network) restarts the cascade.
    if (isWildcard(this.#server.address.host) && this.#advertise.length === 0) {
      // Only the interfaces: an address a peer reports triggers the cascade itself (#noteSeenAs).
      this.#interfaces = (this.#interfaceAddresses() ?? []).join(",");
      this.#interfacesTimer = setInterval(() => {
        const now = (this.#interfaceAddresses() ?? []).join(",");
        if (now === this.#interfaces) return;
        this.#interfaces = now;
        this.#say(`local addresses changed: ${now || "none"}`);
        this.#discovery.trigger("local addresses changed").catch(() => {});
      }, options.interfacePollMs ?? 5000);
    }
  }

  /**
   * The UDP endpoint on the listen port (another port if that one is taken:
   * coordinators report whatever port they see) and the puncher. Without it
   * the node still works over TCP.
   */
  async #startQuic(server: SshServer): Promise<void> {
    const cert = await makeQuicCert(this.#now());
    const serve = (port: number) =>
      openQuicService({
        host: server.address.host,
        port,
        cert,
        onSsh: (socket) => server.inject(socket),
        onProbe: (conn, stream, from) => this.#punch?.onProbe(conn, stream, from),
        log: (line) => this.#say(line),
      });
    try {
      try {
        this.#quic = serve(server.address.port);
      } catch {
        this.#quic = serve(0);
      }
    } catch (err) {
      this.#say(`no UDP endpoint, so no punched paths: ${(err as Error).message}`);
      return;
    }
    this.#punch = new Puncher(this.#punchHost());
    if (!this.#passive) this.#punch.start();
  }

  /**
   * Tries a punched UDP path to contact `peer` now, through each connected
   * peer that can coordinate. Never throws: a failure says why, so the relay
   * path can take over. (Unreached contacts are also punched to on their own.)
   */
  punch(peer: Uint8Array): Promise<PunchResult> {
    return this.#punch?.punch(peer) ??
      Promise.resolve({ ok: false, reason: "this node has no UDP endpoint" });
  }

  #punchHost(): PunchHost {
    return {
      publicKey: this.publicKey,
      now: () => this.#now(),
      log: (line) => this.#say(line),
      quic: () => this.#quic,
      // A relayed session neither coordinates nor stops a punch that would replace it.
      sessions: () => this.#peers.all().filter((s) => s.via === undefined),
      accepted: (peer) => this.contacts.accepted(peer) !== undefined,
      name: (peer) => this.#peerName(peer),
      unreached: () =>
        this.contacts.all().filter((c) => {
          if (c.blocked || c.anchor || !this.contacts.accepted(c.publicKey)) return false;
          // A session through a relay is worth replacing by a punched path.
          const s = this.#peers.get(c.publicKey);
          return !s || s.via !== undefined;
        }).map((c) => c.publicKey),
      attach: (peer, socket, at) => this.#dialOver(peer, socket, at),
    };
  }

  #lanHost(): LanHost {
    const pair = pairwise(this.profile.keyPair);
    return {
      publicKey: this.publicKey,
      pair,
      now: () => this.#now(),
      log: (line) => this.#say(line),
      contacts: () =>
        this.contacts.all()
          .filter((c) => !c.blocked && !c.anchor && this.contacts.accepted(c.publicKey))
          .map((c) => c.publicKey),
      name: (peer) => this.#peerName(peer),
      sshPort: () => this.#server?.address.port,
      sshIpv6: () => this.#server?.address.host === "::",
      // A session through a relay is worth replacing by a LAN one (see #dialAt's upgrade).
      wanted: (peer) => {
        const s = this.#peers.get(peer);
        return !s || s.via !== undefined;
      },
      dial: async (peer, addr) => {
        const contact = this.contacts.accepted(peer);
        if (!contact) return false;
        const ok = await this.#dialAt(contact, addr, true, "lan");
        if (ok) this.#learntVia.set(toHex(peer), "LAN announcement");
        return ok;
      },
    };
  }

  /** SSH to a contact over a punched QUIC stream; true when the session is kept. */
  async #dialOver(peer: Uint8Array, socket: SocketLike, at: Endpoint): Promise<boolean> {
    const contact = this.contacts.accepted(peer);
    if (!contact || this.#closing) {
      socket.destroy();
      return false;
    }
    const client = await dialSsh({
      keyPair: this.profile.keyPair,
      to: at,
      expectedKey: peer,
      expectedName: contact.name,
      timeoutMs: this.#dialTimeoutMs,
      sock: socket,
    });
    this.#clients.add(client);
    client.onClose(() => this.#clients.delete(client));
    try {
      const rpc = this.#rpc(await client.openRoj(), peer);
      await rpc.ready;
      this.#attach(contact, rpc, "out", formatEndpoint(at), client, "punched");
      return this.#peers.get(peer)?.rpc === rpc;
    } catch (err) {
      client.close();
      throw err;
    }
  }

  /**
   * Dials a typed address and keeps the session if a contact answers there;
   * the cascade then restores the others.
   * @throws {RojError} unreachable, or protocol when the key there is no contact's.
   */
  async #connect(address: string): Promise<ContactView> {
    if (!this.#server) {
      throw new RojError("no_node", "the node is not running; start it with `roj run`");
    }
    const to = parseEndpoint(address, 7022);
    const local = this.#localAddress();
    const client = await dialSsh({
      keyPair: this.profile.keyPair,
      to,
      expectedKey: (key) => this.contacts.accepted(key) !== undefined,
      expectedName: "any of your contacts",
      timeoutMs: this.#dialTimeoutMs,
      ...(local ? { localAddress: local } : {}),
    });
    this.#clients.add(client);
    client.onClose(() => this.#clients.delete(client));
    const contact = this.contacts.accepted(client.remoteKey)!;
    try {
      const rpc = this.#rpc(await client.openRoj(), contact.publicKey);
      await rpc.ready;
      const addr = formatEndpoint(to);
      await this.contacts.update(contact.publicKey, {
        addresses: mergeAddresses([addr], contact.addresses),
      });
      this.#learntVia.set(toHex(contact.publicKey), "typed by hand");
      this.#attach(this.contacts.get(contact.publicKey)!, rpc, "out", addr, client);
      this.#say(`reached ${contact.name} at ${addr}, typed by hand`);
      return this.#contactView(this.contacts.get(contact.publicKey)!);
    } catch (err) {
      client.close();
      throw err;
    }
  }

  #peerViews(): PeerView[] {
    return this.contacts.all().filter((c) => !c.blocked).map((c) => {
      const s = this.#peers.get(c.publicKey);
      const k = toHex(c.publicKey);
      return {
        name: c.name,
        fingerprint: fingerprint(c.publicKey),
        kind: c.anchor ? "anchor" : "person",
        state: s ? "connected" : this.#discovery.state(c.publicKey),
        address: s ? s.remote : c.addresses[0] ?? null,
        learnt: this.#learntVia.get(k) ?? (c.addresses.length > 0 ? "invite" : "unknown"),
        lastSeen: s ? this.#now() : c.lastSeen,
        since: s ? s.since : null,
        path: s ? (s.via !== undefined ? "relayed" : s.path ?? "direct") : null,
        ...(s?.via !== undefined ? { via: s.via } : {}),
      };
    });
  }

  /** Resolves when no exchange with an anchor's group mailbox is under way (tests, benchmarks). */
  mailboxIdle(): Promise<void> {
    return this.#mailbox.idle();
  }

  /** Stops serving, closes every session, and closes the store. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#discovery.close();
    this.#anchorMailbox?.close();
    this.#mailbox.close();
    for (const t of this.#forwarding.values()) clearTimeout(t);
    this.#forwarding.clear();
    this.#punch?.close();
    this.#lan?.close();
    this.#relay.close();
    await this.#portMap?.close();
    if (this.#interfacesTimer) clearInterval(this.#interfacesTimer);
    for (const s of this.#peers.all()) s.rpc.close("node stopping");
    for (const c of this.#clients) c.close();
    await this.#server?.close();
    this.#quic?.close();
    // Let pending commits settle before closing the store.
    await new Promise((r) => setTimeout(r, 10));
    await this.#marks.close();
    this.#verifier.close();
    this.profile.store.close();
  }
}
