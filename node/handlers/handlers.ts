/**
 * The local API (api/), served: one handler per method, typed from its
 * params and result, so the table cannot miss a method or return the wrong
 * shape. Params have been checked by api/parseCall before they get here.
 * A passive anchor runs no chats: its table refuses those methods.
 */
import type { ContactView, Method, Params, PeerView, Results, StatusView } from "../api/mod.ts";
import type { ChatDirectory, ChatService, GroupService, Receipts } from "../chats/mod.ts";
import type { Clock } from "../clock/mod.ts";
import type { ContactBook, Verifications } from "../contacts/mod.ts";
import type { Discovery } from "../discovery/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { FileService, GroupFiles } from "../files/mod.ts";
import { checkName } from "../home/mod.ts";
import type { InviteFlow } from "../invites/mod.ts";
import type { IntroService } from "../introductions/mod.ts";
import { introHandlers } from "./intro.ts";
import { devicesHandlers } from "./devices.ts";
import type { LinkService } from "../linking/mod.ts";
import { toHex } from "../log/mod.ts";
import type { Relay } from "../relay/mod.ts";
import type { SessionManager } from "../sessions/mod.ts";
import { contactView, peerView } from "../views/mod.ts";
import { MESSAGE_METHODS, messageHandlers } from "./messages.ts";
import { identityHandlers, type IdentityResolver } from "./identity.ts";
import { verifyHandlers } from "./verify.ts";
import { searchHandlers } from "./search.ts";
import type { ChatPrefs } from "../prefs/mod.ts";
import type { SearchService } from "../search/mod.ts";
import { fileHandlers } from "./files.ts";
import { groupStateHandlers } from "./group_state.ts";
import { forgetContact, type ForgetHow } from "./forget.ts";

/** The methods a call may name (follow is served by subscribe). */
export type CallMethod = Exclude<Method, "follow">;

export type Handlers = {
  readonly [M in CallMethod]: (params: Params<M>) => Promise<Results[M]> | Results[M];
};

export interface HandlerDeps {
  /** This node's own key. */
  readonly me: Uint8Array;
  readonly passive: boolean;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly contacts: ContactBook;
  /** Contacts marked verified (safety numbers compared). */
  readonly verifications: Verifications;
  readonly directory: ChatDirectory;
  readonly chats: ChatService;
  readonly receipts: Receipts;
  readonly groups: GroupService;
  readonly sessions: SessionManager;
  readonly invites: InviteFlow;
  readonly discovery: Discovery;
  readonly relay: Relay;
  /** Introductions (none on a passive anchor). */
  readonly intros: IntroService | undefined;
  /** Linking devices (node/linking). */
  readonly linking: LinkService;
  /** Full-text search, and per-chat settings (mute, pin, archive). */
  readonly search: SearchService;
  readonly prefs: ChatPrefs;
  readonly files: FileService;
  readonly groupFiles?: GroupFiles;
  status(): StatusView;
  readonly identity: IdentityResolver;
  /** Whether the node has started listening (dialling needs it). */
  running(): boolean;
}

/** Methods that need chats: a passive anchor refuses them. */
const CHAT_METHODS: readonly CallMethod[] = [
  "send",
  "note",
  "read",
  "chats",
  "group.create",
  "group.add",
  "group.remove",
  "group.promote",
  "group.leave",
  "group.members",
  "forks",
  ...MESSAGE_METHODS,
  "file.send",
  "files",
  "file.save",
  "file.retry",
  "file.read",
  "file.upload",
  "file.thumb",
  "file.cancel",
  "group.state",
  "group.forget",
];

export function createHandlers(d: HandlerDeps): Handlers {
  const view = (c: Parameters<typeof contactView>[0]): ContactView =>
    contactView(
      c,
      d.sessions.get(c.publicKey) !== undefined,
      d.clock.now(),
      d.verifications.isVerified(c.publicKey),
    );
  const mustRun = () => {
    if (!d.running()) {
      throw new RojError("no_node", "the node is not running; start it with `roj run`");
    }
  };
  const forget = async (name: string, how: ForgetHow) => {
    const c = d.directory.contact(name);
    await forgetContact({ ...d, view }, c, how);
    return c.name;
  };
  const table: Handlers = {
    status: () => d.status(),
    send: (p) => d.chats.send(p.chat, p.text, p.reply),
    note: (p) => d.chats.noteView(p.text),
    read: (p) =>
      d.chats.read(p.chat, {
        ...(p.last !== undefined ? { last: p.last } : {}),
        ...(p.markRead !== undefined ? { markRead: p.markRead } : {}),
      }),
    contacts: () => d.contacts.all().filter((c) => !c.blocked).map(view),
    invite: (p) => d.invites.issue(p.expiresIn, p.uses),
    "invite.withdraw": (p) => d.invites.withdraw(p.invite),
    add: async (p) => {
      const c = await d.invites.add(p.invite, p.name);
      return view(d.contacts.get(c.publicKey) ?? c);
    },
    rename: async (p) => {
      const c = d.directory.contact(p.name);
      const renamed = await d.contacts.rename(
        c.publicKey,
        checkName(p.to),
        d.directory.reservedNames(),
      );
      d.bus.say(`renamed ${c.name} to ${renamed.name}`);
      d.bus.emit({ type: "contact", contact: view(renamed) });
      return view(renamed);
    },
    remove: async (p) => ({ removed: await forget(p.name, "remove") }),
    block: async (p) => ({ blocked: await forget(p.name, "block") }),
    peers: () => peers(d),
    connect: async (p) => {
      mustRun();
      return view(await d.sessions.connectTo(p.address));
    },
    "group.create": (p) => d.groups.create(p.name),
    "group.add": (p) => d.groups.add(p.group, p.members),
    "group.remove": (p) => d.groups.remove(p.group, p.member),
    "group.promote": (p) => d.groups.promote(p.group, p.member),
    "group.leave": (p) => d.groups.leave(p.group),
    "group.members": (p) => d.groups.view(d.directory.group(p.group)).members,
    forks: (p) => d.chats.forks(p.chat),
    ...identityHandlers(d.identity),
    ...verifyHandlers({ ...d, view }),
    ...introHandlers(d.intros, d.directory),
    ...devicesHandlers(d.linking, d.passive),
    ...searchHandlers(d), // also serves `chats`, with each chat's settings
    ...messageHandlers(d),
    ...fileHandlers(d.files, d.groupFiles),
    ...groupStateHandlers(d.groups),
  };
  if (!d.passive) return table;
  const refuse = () => {
    throw new RojError("refused", "this node is a passive anchor: it runs no chats");
  };
  return { ...table, ...Object.fromEntries(CHAT_METHODS.map((m) => [m, refuse])) };
}

function peers(d: HandlerDeps): PeerView[] {
  const now = d.clock.now();
  return d.contacts.all().filter((c) => !c.blocked).map((c) =>
    peerView(
      c,
      d.sessions.get(c.publicKey),
      d.discovery.state(c.publicKey),
      d.sessions.learntVia.get(toHex(c.publicKey)),
      now,
    )
  );
}

/** Serves one call from the table. */
export function dispatch<M extends CallMethod>(
  table: Handlers,
  method: M,
  params: Params<M>,
): Promise<Results[M]> {
  const fn = table[method] as ((p: Params<M>) => Promise<Results[M]> | Results[M]) | undefined;
  if (!fn) return Promise.reject(new RojError("bad_input", `unknown method ${String(method)}`));
  try {
    return Promise.resolve(fn(params));
  } catch (err) {
    return Promise.reject(err);
  }
}
