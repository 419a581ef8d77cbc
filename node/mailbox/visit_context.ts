/**
 * What the parts of a member's mailbox visit share: the session with the
 * anchor, and the member's side (see group_mailbox.ts) as the parts see it.
 */
import type { Clock } from "../clock/mod.ts";
import type { ChatLog, Entry, RawEntry } from "../log/mod.ts";
import type { KeyPair } from "../identity/mod.ts";
import type { RpcSession } from "../protocol/mod.ts";
import type { GroupBook } from "../groups/mod.ts";
import type { MailEpoch } from "./mail_epoch.ts";

/** A catch-up from an anchor moved: entries merged of those fetched. */
export interface MailboxProgress {
  readonly chat: string;
  /** The anchor's name. */
  readonly from: string;
  readonly done: number;
  /** Entries to merge in this round. */
  readonly total: number;
}

/**
 * What a member's visit did, beside its log lines: `anchor` is the anchor's
 * name, `chat` the group's id. "taken": entries merged from fetched boxes
 * (`left` not taken); "unopened": boxes that did not open; "refused": the
 * anchor holds no more from us, in its own words; "visited": one visit of a
 * group ended (fetched, merged, handed over; `forward`: others' entries too).
 */
export type MailboxNote =
  | {
    readonly op: "taken";
    readonly anchor: string;
    readonly chat: string;
    readonly entries: number;
    readonly left: number;
  }
  | {
    readonly op: "unopened";
    readonly anchor: string;
    readonly chat: string;
    readonly boxes: number;
  }
  | {
    readonly op: "refused";
    readonly anchor: string;
    readonly chat: string;
    readonly reason: string;
  }
  | {
    readonly op: "visited";
    readonly anchor: string;
    readonly chat: string;
    readonly stored: number;
    readonly forward: boolean;
  };

/** The node, as a member's mailbox sees it. */
export interface GroupMailboxHost {
  readonly log: ChatLog;
  readonly kv: Deno.Kv;
  readonly groups: GroupBook;
  readonly keyPair: KeyPair;
  /**
   * The key that is the group's member: on a device of a person, the
   * person's (the device signs with `keyPair`, the person is in the group,
   * and the epoch keys it holds are the person's). @default keyPair.publicKey
   */
  readonly member?: Uint8Array;
  /**
   * Entries fetched from an anchor by a key that is no member's own: those
   * of a member's device count (a contact's or ours), each while it spoke
   * for its member at the entry's time. `learn` takes in the device
   * certificates the entries carry first (no session tells whose they are).
   * @default none: members' own entries only
   */
  readonly devices?: MemberDevices;
  /** The X25519 key a contact published (its key is in ssh-agent). @default none */
  readonly agreeKeyOf?: (them: Uint8Array) => Uint8Array | undefined;
  /**
   * Times the hand-over of received entries; its `now` decides when a past
   * epoch's grace ends. @default systemClock
   */
  readonly clock?: Clock;
  /** Entries from an anchor were stored: refold, show, pass on (as for a member's push). */
  stored(chat: string, entries: Entry[]): Promise<void>;
  /** A group pointed out to us: adopt it if `raws` name us a member. Resolves with whether we are in. */
  join(chat: string, raws: RawEntry[], anchor: string): Promise<boolean>;
  /** Contacts (not anchors) who may have left pointers for us. */
  contacts(): Uint8Array[];
  progress(p: MailboxProgress): void;
  say(line: string): void;
  /** What a visit did (see MailboxNote). */
  note?(n: MailboxNote): void;
  /**
   * The anchor `anchor` said boxes arrived under `tag`: true when that tag
   * is someone else's here (1:1 mail, direct_mail.ts) and was handled.
   */
  notified?(anchor: Uint8Array, tag: string): boolean;
}

/** The devices of a group's members, as a fetch from an anchor asks of them (see GroupMailboxHost). */
export interface MemberDevices {
  /** Takes in the certificates of members' devices that `raws` of group `chat` carry. */
  learn(chat: string, raws: readonly RawEntry[]): Promise<void>;
  /** Whether `key` spoke for a member of group `chat` at `at` (ever a member). */
  speaks(chat: string, key: Uint8Array, at: number): boolean;
}

/** A live session with an anchor, and what this session has learnt from it. */
export interface AnchorSession {
  readonly peer: Uint8Array;
  readonly rpc: RpcSession;
  readonly name: string;
  /** Tags the anchor said have new boxes, not fetched since. */
  readonly notified: Set<string>;
  /** Groups whose past epochs were fetched in this session (once is enough: then notices tell). */
  readonly looked: Set<string>;
}

/** The member's side, as the parts of a visit (fetch, push, pointers) use it. */
export interface VisitContext {
  readonly host: GroupMailboxHost;
  /** Our key: what our entries are signed with. */
  readonly me: Uint8Array;
  /** The key in the group: ours, or on a device the person's (GroupMailboxHost.member). */
  readonly member: Uint8Array;
  /** The epochs of a group this node files under and fetches, oldest first. */
  epochsOf(chat: string): Promise<MailEpoch[]>;
  /** Visits the anchor again for `chat` (a group joined through a pointer). */
  visit(s: AnchorSession, chat: string, forward: boolean): void;
}
