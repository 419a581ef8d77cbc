/**
 * The node's local API: what the CLI (over the control socket) and the web
 * admin (over HTTP) may ask of a running node. One schema per method checks
 * every request before the node sees it; one implementation serves both.
 */
import { z } from "zod";
import { RojError } from "../errors.ts";
import type { DirectMailEvent } from "./direct_mail_events.ts";
import type { NatEvent } from "./nat_events.ts";
import type { AgentEvent, AgentView } from "./agent_view.ts";
import type { ForkView, GroupView, InviteView, MemberView } from "./chat_views.ts";
import type { CatchUpView, PortMapView } from "./status_parts.ts";
import type { VerifyView } from "./verify_view.ts";
import { type IntroEvent, introParams, type IntroResults } from "./intro_api.ts";
import { type DeviceEvent, devicesParams, type DevicesResults } from "./devices_api.ts";
import type { ChatSyncedEvent, OwnDeviceEvent } from "./device_sync_api.ts";
import { inviteParams, type InviteResults } from "./invite_api.ts";
import { identityParams } from "./identity_api.ts";
import type { IdentityEvent, IdentityResults, IdentityView } from "./identity_api.ts";
import { searchParams, type SearchResults } from "./search_api.ts";
import type { ChatPrefsView, SearchIndexEvent } from "./search_api.ts";
import { MAX_TEXT, messageMethodParams, sendParams } from "./message_api.ts";
import type { MessageAnnotations, MessageEvent, MessageResults } from "./message_api.ts";
import { type FileEvent, fileMethodParams, type FileResults } from "./files_api.ts";
import { groupStateParams, type GroupStateResults } from "./group_state_api.ts";

export { MAX_TEXT };
/** Longest invite text accepted. */
export const MAX_INVITE = 4096;

const chatName = z.string().min(1).max(64);

/** Parameters of each method; anything else is refused before it reaches the node. */
export const methodParams = {
  status: z.object({}).strict(),
  send: sendParams,
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
  /** Forks on record: someone's key signed two different entries for one place (all chats, or one). */
  forks: z.object({ chat: chatName.optional() }).strict(),
  /** A contact's safety number; `verify.mark` marks them verified once it matched (false: unmark). */
  verify: z.object({ name: z.string().min(1).max(40) }).strict(),
  "verify.mark": z.object({ name: z.string().min(1).max(40), verified: z.boolean().optional() })
    .strict(),
  ...introParams,
  ...devicesParams,
  ...searchParams,
  ...messageMethodParams,
  ...fileMethodParams,
  /** Streams NodeEvents until the caller goes away. */
  follow: z.object({ chat: chatName.optional() }).strict(),
  ...identityParams,
  ...groupStateParams,
  ...inviteParams,
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
  /** An anchor: the group files it holds in full for members (sealed), and their bytes. */
  readonly groupFiles?: { readonly files: number; readonly bytes: number };
  /** A person's node that carries 1:1 mail for contacts (not `--no-carry`): boxes and bytes held. */
  readonly carrying?: { readonly boxes: number; readonly bytes: number };
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
  /** Set when the key is in ssh-agent. */
  readonly agent?: AgentView;
  /** This identity writing on another node too (node/identity_guard); absent on an anchor. */
  readonly identity?: IdentityView;
}

export interface ContactView {
  readonly name: string;
  readonly publicKey: string;
  readonly fingerprint: string;
  readonly online: boolean;
  /** ms since the epoch; null when never seen. */
  readonly lastSeen: number | null;
  readonly addresses: string[];
  /** Marked verified (`roj verify --mark`) for the keys as they are now. */
  readonly verified: boolean;
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
  /**
   * True when the peer dialled this node: `address`'s port is then their
   * temporary source port, not one they listen on.
   */
  readonly inbound?: boolean;
}

export interface MessageView extends MessageAnnotations {
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
   * member), then "delivered", then "read" once the contact's read receipt
   * covers it (direct chats, receipts on for them); in a 1:1 chat,
   * "at-anchor" meanwhile once an anchor both use holds it for the peer (1:1
   * mail). Others': "received".
   */
  readonly state: "stored" | "at-anchor" | "delivered" | "read" | "received";
  readonly hash: string;
  /** Which device of the author's wrote it: its certificate's key id, when a device key signed it. */
  readonly device?: string;
}

export interface ChatView {
  readonly name: string;
  readonly id: string;
  readonly kind: "notes" | "direct" | "group";
  readonly unread: number;
  readonly last: MessageView | null;
  /** Muted, pinned, archived here (absent on views that do not say). */
  readonly prefs?: ChatPrefsView;
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
  | MessageEvent
  | { readonly type: "contact"; readonly contact: ContactView }
  | { readonly type: "log"; readonly line: string }
  /** A catch-up's progress: first at 0, at most a few times a second, last at done = total. */
  | { readonly type: "progress"; readonly progress: CatchUpView }
  /** A session with a contact was kept (it replaces any other from that key of theirs). */
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
    /** The contact's device the session comes from (its fingerprint), if not the contact's key. */
    readonly device?: string;
  }
  /** A session with a contact ended (not when a better one replaced it). */
  | {
    readonly type: "session";
    readonly state: "down";
    readonly peer: string;
    readonly fingerprint: string;
    readonly reason: string;
    /** The contact's device the session came from (its fingerprint), if not the contact's key. */
    readonly device?: string;
  }
  /** A dial to a contact failed; told once per change of reason. */
  | {
    readonly type: "dial-failed";
    readonly peer: string;
    readonly fingerprint: string;
    readonly address: string;
    /** A RojError code, or "error" for anything else. */
    readonly code: string;
    /**
     * Where it failed. "ssh": SSH did not come up, and there `code` says why:
     * "protocol" when another key answered at the address (the host key is
     * checked first), "refused" when the contact did not accept our key,
     * "unreachable" otherwise. "session": SSH was up, the roj session was not.
     */
    readonly stage: "ssh" | "session";
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
  /**
   * A run of the cascade ended (failed: it stopped on an error). A run that
   * started after the last change and learnt nothing is the proof that the
   * cascade has nothing more to find on its own (its retries dial and ask
   * the same again).
   */
  | {
    readonly type: "cascade";
    readonly state: "done";
    readonly failed: boolean;
    /** When it started, by the node's clock (ms since the epoch), and how long it ran. */
    readonly startedAt: number;
    readonly ms: number;
    /** Newer records of contacts it learnt (asks of new sessions while it ran included). */
    readonly learnt: number;
  }
  /** A contact's newer signed address record was learnt (the cascade, or from them). */
  | {
    readonly type: "record-learnt";
    readonly peer: string;
    readonly fingerprint: string;
    readonly seq: number;
    /** "direct", "via bob", "via anchor hive" (as `roj peers` shows it). */
    readonly via: string;
    /** Handed over by the contact itself, or served by a peer or an anchor holding a sealed copy. */
    readonly source: "direct" | "peer" | "anchor";
    /** The peer or anchor that served it. */
    readonly holder?: string;
    readonly addresses: readonly string[];
  }
  /** A source made too many SSH login attempts that logged nobody in; its attempts are refused for a while. */
  | { readonly type: "auth-throttled"; readonly source: string }
  /** A peer reported seeing us at an address we did not know (see addresses/own_addresses.ts). */
  | { readonly type: "seen-as"; readonly address: string }
  /** A group appeared here: a member offered it, or an anchor's mailbox pointed it out. */
  | {
    readonly type: "group";
    readonly op: "joined";
    readonly group: string;
    readonly id: string;
    readonly via: "offer" | "mailbox";
    /** The contact who offered it, or the anchor. */
    readonly from: string;
  }
  /** This node is no longer a member (a member's change arrived that removed it). */
  | { readonly type: "group"; readonly op: "removed"; readonly group: string; readonly id: string }
  /**
   * A group offered by `from` was not taken: "too-much-history", more entries
   * before it named us a member than a scratch log holds.
   */
  | {
    readonly type: "group";
    readonly op: "dropped";
    readonly group: string;
    readonly id: string;
    readonly from: string;
    readonly reason: "too-much-history";
  }
  // ---- Events that tests wait on instead of log lines (issue 12, items 6 and 7). Each is said
  // where its log line is; values and codes, no sentences; peer-supplied text bounded. ----
  /** This node signed a new address record and publishes it. */
  | {
    readonly type: "record-published";
    readonly seq: number;
    readonly addresses: readonly string[];
    /** Relays it names (while this node cannot be dialled from outside). */
    readonly relays: number;
  }
  /** A contact's address record that was not taken, and why (see RecordDropReason). */
  | {
    readonly type: "record-dropped";
    /** Whose record it is meant to be, as this node names them. */
    readonly peer: string;
    readonly fingerprint: string;
    /** Who handed it over: the contact itself (addr.mine), or the holder of a sealed copy. */
    readonly from: string;
    readonly reason: RecordDropReason;
    /** The record's seq, when it opened. */
    readonly seq?: number;
    /** For "old": the seq this node has. */
    readonly have?: number;
  }
  /**
   * Our record and sealed copies were handed over on a new session (ok), or
   * that failed. Once per session kept, after its "session" up (never on an anchor).
   */
  | {
    readonly type: "records-handed";
    readonly peer: string;
    readonly fingerprint: string;
    readonly ok: boolean;
  }
  /** A dial of one address of a contact began (the cascade, a LAN announcement, an upgrade). */
  | {
    readonly type: "dialling";
    readonly peer: string;
    readonly fingerprint: string;
    readonly address: string;
  }
  | AgentEvent
  /** A typed address (`roj connect`) reached this contact. */
  | {
    readonly type: "typed-address";
    readonly peer: string;
    readonly fingerprint: string;
    readonly address: string;
  }
  /** A contact asked to be dialled back (node/relay reachability); whether SSH reached it. */
  | {
    readonly type: "dial-back";
    readonly peer: string;
    readonly fingerprint: string;
    readonly address: string;
    readonly reached: boolean;
  }
  /** The machine's interface addresses changed (seen by a node listening everywhere). */
  | { readonly type: "local-addresses"; readonly addresses: readonly string[] }
  /**
   * Group entries offered to these peers (by name here): after a change here
   * or a member's arrival ("change", "forward": their syncs started or told
   * of it), or the history up to a departure, now with the peer who left or
   * was removed ("farewell", said once that push is done).
   */
  | {
    readonly type: "group-push";
    readonly group: string;
    readonly id: string;
    readonly reason: "change" | "forward" | "farewell";
    readonly peers: readonly string[];
  }
  /** A member's visit to an anchor's group mailbox: entries merged from its boxes, `left` not taken. */
  | {
    readonly type: "mailbox";
    readonly op: "taken";
    readonly anchor: string;
    readonly group: string;
    readonly id: string;
    readonly entries: number;
    readonly left: number;
  }
  /** Boxes fetched that did not open (or held no entry of the group): skipped. */
  | {
    readonly type: "mailbox";
    readonly op: "unopened";
    readonly anchor: string;
    readonly group: string;
    readonly id: string;
    readonly boxes: number;
  }
  /**
   * The anchor holds no more of our boxes; `reason` is its own words (the
   * first 120 characters, control characters escaped as node/text does).
   */
  | {
    readonly type: "mailbox";
    readonly op: "refused";
    readonly anchor: string;
    readonly group: string;
    readonly id: string;
    readonly reason: string;
  }
  /**
   * A visit for one group ended: fetched, merged (`stored` new entries), and
   * our entries handed over (with `forward`, others' too).
   */
  | {
    readonly type: "mailbox";
    readonly op: "visited";
    readonly anchor: string;
    readonly group: string;
    readonly id: string;
    readonly stored: number;
    readonly forward: boolean;
  }
  /** A passive anchor's mailbox refused a member's boxes (see MailboxRefusal). */
  | {
    readonly type: "anchor-mailbox";
    readonly op: "refused";
    readonly peer: string;
    readonly fingerprint: string;
    readonly code: MailboxRefusal;
  }
  /** A passive anchor dropped boxes past their age. */
  | { readonly type: "anchor-mailbox"; readonly op: "expired"; readonly boxes: number }
  /** 1:1 mail, and mail between own devices, at an anchor (see direct_mail_events.ts). */
  | DirectMailEvent
  | FileEvent
  /** A fork was first seen (once per author and chat; later twins are refused unrecorded). */
  | { readonly type: "fork"; readonly fork: ForkView }
  | IntroEvent
  | DeviceEvent
  | SearchIndexEvent
  /** Getting through NATs: reachability, relays, punches, port mapping, LAN (see nat_events.ts). */
  | NatEvent
  | IdentityEvent
  | OwnDeviceEvent
  | ChatSyncedEvent;

/**
 * Why an address record was not taken: "old" (older than the one held),
 * "bad-signature", "not-theirs" (well signed, by someone else),
 * "undecryptable" (a sealed copy that does not open), "malformed".
 */
export type RecordDropReason =
  | "old"
  | "bad-signature"
  | "not-theirs"
  | "undecryptable"
  | "malformed";

/**
 * Why an anchor's mailbox refused a box: "quota" (the member's share is
 * full), "full" (the whole mailbox is), "too-large", "malformed".
 */
export type MailboxRefusal = "quota" | "full" | "too-large" | "malformed";

/** What each method returns. */
export interface Results
  extends
    IntroResults,
    IdentityResults,
    SearchResults,
    MessageResults,
    DevicesResults,
    FileResults,
    GroupStateResults,
    InviteResults {
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
  forks: ForkView[];
  verify: VerifyView;
  "verify.mark": VerifyView;
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
