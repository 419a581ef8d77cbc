/**
 * The node's local API: what the CLI (over the control socket) and the web
 * admin (over HTTP) may ask of a running node. One schema per method checks
 * every request before the node sees it; one implementation serves both.
 */
import { z } from "zod";
import { RojError } from "../errors.ts";
import type { NatEvent } from "./nat_events.ts";

/** Longest text message accepted from a person, in characters (the entry limit is 64 KiB of UTF-8). */
export const MAX_TEXT = 16_000;
/** Longest invite text accepted. */
export const MAX_INVITE = 4096;

const chatName = z.string().min(1).max(64);

/** Parameters of each method; anything else is refused before it reaches the node. */
export const methodParams = {
  status: z.object({}).strict(),
  send: z.object({ chat: chatName, text: z.string().min(1).max(MAX_TEXT) }).strict(),
  note: z.object({ text: z.string().min(1).max(MAX_TEXT) }).strict(),
  read: z.object({
    chat: chatName,
    last: z.number().int().min(1).max(100_000).optional(),
    /** Mark the chat as read. @default true */
    markRead: z.boolean().optional(),
  }).strict(),
  chats: z.object({}).strict(),
  contacts: z.object({}).strict(),
  invite: z.object({
    /** Seconds until the invite expires. @default 86400 */
    expiresIn: z.number().int().min(60).max(30 * 86400).optional(),
    /** How many people may use it. @default 1 */
    uses: z.number().int().min(1).max(100).optional(),
  }).strict(),
  add: z.object({
    invite: z.string().min(1).max(MAX_INVITE),
    name: z.string().min(1).max(40).optional(),
  }).strict(),
  /** Each contact: reachability, path, how its address was learnt. */
  peers: z.object({}).strict(),
  /** Dial a typed "host:port"; a contact must answer there. */
  connect: z.object({ address: z.string().min(1).max(300) }).strict(),
  /** Give a contact another name here (their chat is renamed with them). */
  rename: z.object({ name: z.string().min(1).max(40), to: z.string().min(1).max(40) }).strict(),
  /** Forget a contact: no more sessions or sealed copies; the chat history stays. */
  remove: z.object({ name: z.string().min(1).max(40) }).strict(),
  /** Refuse a contact's sessions from now on (they can be added again from a new invite). */
  block: z.object({ name: z.string().min(1).max(40) }).strict(),
  /** Found a group with you as its only member and admin. */
  "group.create": z.object({ name: z.string().min(1).max(64) }).strict(),
  /** Add contacts to a group (admins only); each gets the new group key. */
  "group.add": z.object({
    group: chatName,
    members: z.array(z.string().min(1).max(40)).min(1).max(50),
  }).strict(),
  /** Remove a member (admins only): they get no key to anything written afterwards. */
  "group.remove": z.object({ group: chatName, member: z.string().min(1).max(100) }).strict(),
  /** Make a member an admin (admins only). */
  "group.promote": z.object({ group: chatName, member: z.string().min(1).max(100) }).strict(),
  /** Leave a group. */
  "group.leave": z.object({ group: chatName }).strict(),
  /** A group's current members. */
  "group.members": z.object({ group: chatName }).strict(),
  /** Streams NodeEvents until the caller goes away. */
  follow: z.object({ chat: chatName.optional() }).strict(),
} as const;

export type Method = keyof typeof methodParams;
export type Params<M extends Method> = z.infer<(typeof methodParams)[M]>;

export interface StatusView {
  readonly name: string;
  readonly publicKey: string;
  readonly fingerprint: string;
  readonly dataDir: string;
  /** Addresses the SSH server listens on, "host:port". */
  readonly listen: string[];
  readonly contacts: number;
  readonly online: number;
  readonly version: string;
  /** Set on a passive anchor. */
  readonly passive?: boolean;
  /** A passive anchor's figures: members, sealed records held, live sessions. */
  readonly members?: number;
  readonly records?: number;
  readonly sessions?: number;
  /**
   * A passive anchor's group mailbox: sealed boxes and bytes held, and boxes
   * uploaded again although held (since start).
   */
  readonly mailbox?: {
    readonly boxes: number;
    readonly bytes: number;
    readonly duplicates: number;
  };
  /** Catch-ups under way (chats with many entries to take in from a peer or anchor). */
  readonly catchingUp?: CatchUpView[];
  /** Whether peers could dial this node when it last checked (absent: not checked yet). */
  readonly reachable?: boolean;
  /**
   * How the NAT in front of this node maps its UDP endpoint, once two punch
   * coordinators have seen it (absent: not known). "symmetric": a new port per
   * destination, so no punched paths; contacts come through relays.
   */
  readonly nat?: {
    readonly mapping: "symmetric" | "endpoint-independent";
    readonly reason: string;
  };
  /** Relaying for contacts: off with --no-relay; sessions spliced here now and bytes forwarded. */
  readonly relay?: { readonly enabled: boolean; readonly active: number; readonly bytes: number };
  /** The home router's port mapping of the listen port (UPnP-IGD / NAT-PMP). */
  readonly portMap?: PortMapView;
}

/**
 * A port mapping: "off" (with why: --no-upnp, loopback listener, --advertise),
 * "searching" for a gateway, "mapped", or "none" (no gateway mapped it; why).
 */
export interface PortMapView {
  readonly state: "off" | "searching" | "mapped" | "none";
  readonly method?: "upnp" | "nat-pmp";
  /** The router's LAN address. */
  readonly gateway?: string;
  /** The address peers outside dial, "ip:port". */
  readonly external?: string;
  /** Where the router forwards it, "ip:port". */
  readonly internal?: string;
  /** What is mapped: "tcp", and "udp" for QUIC. */
  readonly protocols?: readonly ("tcp" | "udp")[];
  /** The lease the router granted, in seconds; renewed at half of it. */
  readonly leaseSeconds?: number;
  /** ms since the epoch when the router last granted or renewed the mapping. */
  readonly renewedAt?: number;
  /** Why there is no mapping, or why the last renewal failed. */
  readonly reason?: string;
}

/** A chat taking in many entries from one peer or anchor: done of total. */
export interface CatchUpView {
  readonly chat: string;
  /** The contact or anchor it comes from. */
  readonly from: string;
  readonly done: number;
  readonly total: number;
}

export interface ContactView {
  readonly name: string;
  readonly publicKey: string;
  readonly fingerprint: string;
  readonly online: boolean;
  /** ms since the epoch; null when never seen. */
  readonly lastSeen: number | null;
  readonly addresses: string[];
}

export interface PeerView {
  readonly name: string;
  readonly fingerprint: string;
  readonly kind: "person" | "anchor";
  readonly state: "connected" | "dialing" | "unreachable";
  /** Where the session runs, or the last known address. */
  readonly address: string | null;
  /** How the address was learnt: "direct", "via bob", "via anchor hive", "typed by hand", "invite". */
  readonly learnt: string;
  readonly lastSeen: number | null;
  /** When the current session started. */
  readonly since: number | null;
  /**
   * How the live session runs: straight to the peer over TCP, over a punched
   * UDP path (SSH inside QUIC), spliced through a relay, or over TCP to an
   * address on the same LAN found by a multicast announcement (node/lan).
   * Null when not connected.
   */
  readonly path: "direct" | "punched" | "relayed" | "lan" | null;
  /** For a relayed session, the relay's name. */
  readonly via?: string;
}

export interface MessageView {
  /** The chat's name on this node. */
  readonly chat: string;
  readonly seq: number;
  /** The author's name on this node ("me" style: this node's own name for own messages). */
  readonly author: string;
  readonly authorFingerprint: string;
  readonly mine: boolean;
  readonly ts: number;
  readonly lamport: number;
  readonly type: string;
  /**
   * The text. In a group: decrypted ("(cannot decrypt)" without the key), and
   * a membership change (type "group.…") as a sentence, e.g. "alice added bob".
   */
  readonly body: string;
  /**
   * For own messages: "stored" until the peer has committed it (in a group: any
   * member), then "delivered". Others': "received".
   */
  readonly state: "stored" | "delivered" | "received";
  readonly hash: string;
}

export interface ChatView {
  readonly name: string;
  readonly id: string;
  readonly kind: "notes" | "direct" | "group";
  readonly unread: number;
  readonly last: MessageView | null;
}

/** A member of a group as this node shows them. */
export interface MemberView {
  /** The contact's name here, else the name they were added under. */
  readonly name: string;
  readonly fingerprint: string;
  readonly admin: boolean;
  /** This node's own identity. */
  readonly me: boolean;
}

export interface GroupView {
  /** The group's name on this node (what `send`/`read` take). */
  readonly name: string;
  readonly id: string;
  readonly members: MemberView[];
}

export interface InviteView {
  readonly text: string;
  readonly expires: number;
  readonly addresses: string[];
}

/** How a live session runs (see PeerView.path). */
export type SessionPath = "direct" | "punched" | "relayed" | "lan";

/**
 * What changed on a node, for the admin, the CLI (`roj read --follow`) and
 * tests. Peers are named as this node shows them, with their fingerprint; a
 * "log" event carries the line `roj run` prints, for people only: nothing
 * should depend on its wording.
 */
export type NodeEvent =
  | { readonly type: "message"; readonly message: MessageView }
  | { readonly type: "delivered"; readonly chat: string; readonly seq: number }
  | { readonly type: "contact"; readonly contact: ContactView }
  | { readonly type: "log"; readonly line: string }
  /** A catch-up's progress: first at 0, at most a few times a second, last at done = total. */
  | { readonly type: "progress"; readonly progress: CatchUpView }
  /** A session with a contact was kept (it replaces any other with that contact). */
  | {
    readonly type: "session";
    readonly state: "up";
    readonly peer: string;
    readonly fingerprint: string;
    readonly path: SessionPath;
    readonly direction: "in" | "out";
    /** "host:port", or "via <relay>". */
    readonly remote: string;
    readonly via?: string;
    readonly anchor: boolean;
  }
  /** The session with a contact ended (not when a better one replaced it). */
  | {
    readonly type: "session";
    readonly state: "down";
    readonly peer: string;
    readonly fingerprint: string;
    readonly reason: string;
  }
  /** A dial to a contact failed; told once per change of reason. */
  | {
    readonly type: "dial-failed";
    readonly peer: string;
    readonly fingerprint: string;
    readonly address: string;
    /** A RojError code, or "error" for anything else. */
    readonly code: string;
    readonly reason: string;
  }
  /** The reconnect cascade: every contact reached again (once per cascade), or some left for timed retries. */
  | {
    readonly type: "cascade";
    readonly state: "all-reached";
    readonly contacts: number;
    readonly rounds: number;
  }
  | {
    readonly type: "cascade";
    readonly state: "backing-off";
    readonly left: number;
    readonly reason: string;
  }
  /** A run of the cascade ended (failed: it stopped on an error). */
  | {
    readonly type: "cascade";
    readonly state: "done";
    readonly failed: boolean;
    readonly ms: number;
  }
  /** A contact's newer signed address record was learnt (the cascade, or from them). */
  | {
    readonly type: "record-learnt";
    readonly peer: string;
    readonly fingerprint: string;
    readonly seq: number;
    /** "direct", "via bob", "via anchor hive". */
    readonly via: string;
    readonly addresses: readonly string[];
  }
  /** A peer reported seeing us at an address we did not know (see addresses/own_addresses.ts). */
  | { readonly type: "seen-as"; readonly address: string }
  /** A group appeared here or this node left it. */
  | {
    readonly type: "group";
    readonly op: "joined" | "removed" | "dropped";
    readonly group: string;
    readonly id: string;
    /** For "joined": who or what brought it ("offered by bob", "through hive"); for "dropped": why. */
    readonly how?: string;
  }
  /** Getting through NATs: reachability, relays, punches, port mapping, LAN (see nat_events.ts). */
  | NatEvent;

/** What each method returns. */
export interface Results {
  status: StatusView;
  send: MessageView;
  note: MessageView;
  read: MessageView[];
  chats: ChatView[];
  contacts: ContactView[];
  invite: InviteView;
  add: ContactView;
  peers: PeerView[];
  connect: ContactView;
  rename: ContactView;
  remove: { removed: string };
  block: { blocked: string };
  "group.create": GroupView;
  "group.add": GroupView;
  "group.remove": GroupView;
  "group.promote": GroupView;
  "group.leave": { left: string };
  "group.members": MemberView[];
  follow: never;
}

/** The node side of the API. `follow` is served by `subscribe`. */
export interface NodeApi {
  call<M extends Exclude<Method, "follow">>(method: M, params: Params<M>): Promise<Results[M]>;
  /** Calls `listener` for every event until the returned function is called. */
  subscribe(listener: (event: NodeEvent) => void): () => void;
}

/**
 * Checks a method name and its parameters from outside.
 * @throws {RojError} bad_input naming the first problem.
 */
export function parseCall(
  method: unknown,
  params: unknown,
): { method: Method; params: Params<Method> } {
  if (typeof method !== "string" || !Object.hasOwn(methodParams, method)) {
    throw new RojError(
      "bad_input",
      `unknown method ${JSON.stringify(String(method).slice(0, 40))}`,
    );
  }
  const m = method as Method;
  const parsed = methodParams[m].safeParse(params ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RojError(
      "bad_input",
      `${m}: ${issue?.path.join(".") || "params"}: ${issue?.message ?? "invalid"}`,
      { cause: parsed.error },
    );
  }
  return { method: m, params: parsed.data as Params<Method> };
}
