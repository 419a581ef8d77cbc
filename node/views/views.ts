/**
 * How the node shows its state to the admin and the CLI: pure functions from
 * what the services hold to the API's views (api/). No I/O, no clock of
 * their own: `now` is passed in.
 */
import { FILE_ENTRY_TYPE, fileSentence } from "../files/mod.ts";
import { GROUP_FILE_TYPE } from "../groups/mod.ts";
import type {
  ContactView,
  GroupView,
  MemberView,
  MessageView,
  PeerView,
  SessionPath,
} from "../api/mod.ts";
import type { Contact } from "../contacts/mod.ts";
import type { Group } from "../groups/mod.ts";
import { fingerprint, parseSshsig, publicKeyLine } from "../identity/mod.ts";
import { checkDeviceName } from "../devices/mod.ts";
import { hexToBytes as fromHex } from "@noble/hashes/utils.js";
import { type Entry, toHex } from "../log/mod.ts";
import type { Folded } from "../messages/mod.ts";
import type { PeerSession } from "../peers/mod.ts";

/** A chat as the node names it. */
export interface ChatRef {
  readonly id: string;
  readonly kind: "notes" | "direct" | "group";
  readonly name: string;
  /** For a direct chat, the contact. */
  readonly peer?: Contact;
  /** For a group chat, the group. */
  readonly group?: Group;
}

/** Who is asking for a message view: the node's own key and how it names authors. */
export interface Viewer {
  readonly me: Uint8Array;
  readonly myName: string;
  /** A contact's name here, if the author is one. */
  contactName(key: Uint8Array): string | undefined;
  /** The author's fingerprint (memoised by the caller: a catch-up shows thousands). */
  fingerprintOf(key: Uint8Array): string;
}

/** Digits of the entry hash in a message's `id`. */
export const MESSAGE_ID_DIGITS = 12;

/** What a message shows beyond its entry: its annotations (messages/fold) and read receipt. */
export interface MessageExtras {
  readonly folded?: Folded;
  /** For a reply: the message it answers, when held. */
  readonly target?: Folded;
  /** The highest own seq the contact's read receipt covers (0: none, or receipts off). */
  readonly readUpTo?: number;
}

/**
 * One entry as a message. `delivered` is the highest own seq the chat's
 * recipient holds, `anchored` the highest an anchor holds for them (1:1
 * mail); `body` replaces the entry's (a group's decrypted text).
 */
export function messageView(
  viewer: Viewer,
  chat: ChatRef,
  e: Entry,
  delivered: number,
  body: string = e.type === FILE_ENTRY_TYPE ? fileSentence(e.body) : e.body,
  anchored = 0,
  extras: MessageExtras = {},
): MessageView {
  const mine = toHex(e.author) === toHex(viewer.me);
  const fp = viewer.fingerprintOf(e.author);
  const f = extras.folded;
  const hash = toHex(e.hash);
  const base: MessageView = {
    chat: chat.name,
    seq: e.seq,
    author: mine ? viewer.myName : viewer.contactName(e.author) ?? fp,
    authorFingerprint: fp,
    mine,
    ts: e.ts,
    lamport: e.lamport,
    // A group's file is a file to whoever reads it (its own entry type only keeps older nodes calm).
    type: e.type === GROUP_FILE_TYPE ? FILE_ENTRY_TYPE : e.type,
    // A file shows as a sentence about it, never its manifest (folding keeps entries' raw text).
    body: e.type === FILE_ENTRY_TYPE
      ? fileSentence(e.body)
      : e.type === GROUP_FILE_TYPE
      ? groupFileSentence(f?.text ?? body)
      : f
      ? f.text
      : body,
    state: !mine
      ? "received"
      : chat.kind !== "notes" && e.seq <= (extras.readUpTo ?? 0)
      ? "read"
      : chat.kind === "notes" || e.seq <= delivered
      ? "delivered"
      : e.seq <= anchored
      ? "at-anchor"
      : "stored",
    hash,
    id: hash.slice(0, MESSAGE_ID_DIGITS),
    ...deviceOf(e),
  };
  return f ? { ...base, ...annotations(viewer, f, extras.target) } : base;
}

/**
 * The device that signed `e`: the key id of the certificate its SSHSIG
 * names (the person's key vouched for it when the entry was taken; see
 * sync/chat_sync.ts admits), shown only when it is a well-formed device name.
 */
function deviceOf(e: Entry): { device?: string } {
  // A plain ed25519 SSHSIG is under 200 bytes; one naming a certificate is longer.
  if (e.sig.length < 250) return {};
  try {
    const name = parseSshsig(e.sig).certificate?.keyId;
    return name === undefined ? {} : { device: checkDeviceName(name) };
  } catch {
    return {};
  }
}

/** A group file's decrypted manifest as a sentence; "file (cannot decrypt)" and the like as they are. */
function groupFileSentence(text: string): string {
  return text.startsWith("(") ? `file ${text}` : fileSentence(text);
}

/** A person's name here: this node's own, a contact's, else the fingerprint. */
function nameOf(viewer: Viewer, key: Uint8Array): string {
  return toHex(key) === toHex(viewer.me)
    ? viewer.myName
    : viewer.contactName(key) ?? viewer.fingerprintOf(key);
}

function annotations(viewer: Viewer, f: Folded, target: Folded | undefined): Partial<MessageView> {
  const meHex = toHex(viewer.me);
  return {
    ...(f.replyTo !== null
      ? {
        replyTo: {
          id: f.replyTo.slice(0, MESSAGE_ID_DIGITS),
          ...(target
            ? {
              author: nameOf(viewer, fromHex(target.item.author)),
              body: target.deleted ? "" : target.text.slice(0, 200),
            }
            : {}),
        },
      }
      : {}),
    ...(f.edited
      ? { edited: true, history: f.history.map((v) => ({ body: v.text, ts: v.ts })) }
      : {}),
    ...(f.deleted ? { deleted: true } : {}),
    ...(f.reactions.size > 0
      ? {
        reactions: [...f.reactions].map(([emoji, authors]) => ({
          emoji,
          authors: authors.map((a) => nameOf(viewer, fromHex(a))),
          mine: authors.includes(meHex),
        })),
      }
      : {}),
  };
}

/** A contact; `lastSeen` is now while a session is up. */
export function contactView(
  c: Contact,
  online: boolean,
  now: number,
  verified: boolean,
): ContactView {
  return {
    name: c.name,
    publicKey: publicKeyLine(c.publicKey),
    fingerprint: fingerprint(c.publicKey),
    online,
    lastSeen: online ? now : c.lastSeen,
    addresses: c.addresses,
    verified,
  };
}

/** The path a live session runs on, as `roj peers` and the admin show it. */
export function sessionPath(s: PeerSession): SessionPath {
  return s.via !== undefined ? "relayed" : s.path ?? "direct";
}

/** A contact as `roj peers` shows it: its session, or where discovery stands with it. */
export function peerView(
  c: Contact,
  session: PeerSession | undefined,
  discoveryState: PeerView["state"],
  learnt: string | undefined,
  now: number,
): PeerView {
  return {
    name: c.name,
    fingerprint: fingerprint(c.publicKey),
    kind: c.anchor ? "anchor" : "person",
    state: session ? "connected" : discoveryState,
    address: session ? session.remote : c.addresses[0] ?? null,
    learnt: learnt ?? (c.addresses.length > 0 ? "invite" : "unknown"),
    lastSeen: session ? now : c.lastSeen,
    since: session ? session.since : null,
    path: session ? sessionPath(session) : null,
    ...(session?.via !== undefined ? { via: session.via } : {}),
    ...(session?.direction === "in" ? { inbound: true } : {}),
  };
}

/**
 * How a group member (hex) is shown here: this node's own name, a contact's
 * name, the name they gave themself (group.hello) unless that is this node's
 * name or a contact's (no passing for someone else), the name they were added
 * under, else their fingerprint.
 */
export function memberNamer(
  g: Group,
  me: Uint8Array,
  myName: string,
  contactName: (key: Uint8Array) => string | undefined,
  contactNamed: (name: string) => boolean = () => false,
): (hex: string) => string {
  const meHex = toHex(me);
  return (hex) => {
    if (hex === meHex) return myName;
    const key = g.membership.ever.get(hex);
    const name = key && contactName(key);
    if (name) return name;
    const own = g.membership.selfNames.get(hex);
    if (own && own.toLowerCase() !== myName.toLowerCase() && !contactNamed(own)) return own;
    return g.membership.names.get(hex) ?? (key ? fingerprint(key) : hex.slice(0, 16));
  };
}

/** A group with its current members, oldest first. */
export function groupView(g: Group, me: Uint8Array, name: (hex: string) => string): GroupView {
  const meHex = toHex(me);
  const members: MemberView[] = [...g.membership.members.entries()]
    .sort((a, b) => a[1].joined - b[1].joined)
    .map(([hex, m]) => ({
      name: name(hex),
      fingerprint: fingerprint(m.key),
      admin: g.membership.admins.has(hex),
      me: hex === meHex,
    }));
  return { name: g.name, id: g.id, members };
}
