/**
 * A group member's side of the anchor mailbox. On each session with an
 * anchor, and for each group this node is a member of: fetch the boxes filed
 * since the last visit, open them, and merge the entries as if a member had
 * pushed them (mailbox_fetch.ts); then hand the anchor, sealed, every entry
 * of the group it was not handed before (mailbox_push.ts; anyone's, so a
 * member forwards for others), and leave pointers for fellow members who may
 * not know the group yet (mailbox_pointers.ts). New local entries are handed
 * to the anchors connected at the time; the anchor tells us (mbox.notify)
 * when someone else filed boxes under a tag we fetched.
 *
 * Tags rotate with the membership epochs (mailbox_crypto.ts): boxes are
 * filed under a secret derived from an epoch's group key, so a removed member
 * gets nothing filed under later epochs. Which epochs count here: those
 * sealed to this node and to nobody outside the epoch's members (a key a
 * concurrent change sealed to someone since removed is not used to file).
 * Which epoch an entry is filed under: mail_epoch.ts; which are fetched, and
 * for how long after they stop being current: epoch_cursor.ts. After each
 * merge the epochs are looked at again: a member back from weeks away
 * follows the chain of changes one tag at a time.
 *
 * Local state per anchor and group: per epoch, the anchor's number of the
 * last box fetched (with the mailbox's generation, so a reset anchor is read
 * again from the start) and when the epoch stopped being current; and, per
 * author, the last seq handed over.
 */
import { type Clock, systemClock, type TimerId } from "../clock/mod.ts";
import { toHex } from "../log/mod.ts";
import type { RpcSession } from "../protocol/mod.ts";
import type { Membership } from "../groups/mod.ts";
import type { MailEpoch } from "./mail_epoch.ts";
import { epochMailboxSecret, mailboxKeys } from "./mailbox_crypto.ts";
import { fetchDue } from "./mailbox_fetch.ts";
import { point, readPointers } from "./mailbox_pointers.ts";
import { push } from "./mailbox_push.ts";
import type { AnchorSession, GroupMailboxHost, VisitContext } from "./visit_context.ts";

/** How long entries received from another member wait before they are handed to anchors. */
const RECEIVED_DELAY_MS = 1500;

export class GroupMailbox {
  readonly #host: GroupMailboxHost;
  readonly #clock: Clock;
  readonly #anchors = new Map<string, AnchorSession>();
  /** Per group, the epochs that count here, for the membership they were worked out from. */
  readonly #epochs = new Map<string, { of: Membership; epochs: MailEpoch[] }>();
  /** Mailbox epochs by group and epoch id (deriving them opens a sealed key). */
  readonly #derived = new Map<string, MailEpoch>();
  /** Tags of the pointers left for us: a notify under one means a new pointer. */
  readonly #pointerTags = new Set<string>();
  /** Per anchor and group, the visit under way, and whether another is due after it. */
  readonly #running = new Map<string, Promise<void>>();
  /** Visits due again after the current one; true when that one is to forward others' entries. */
  readonly #again = new Map<string, boolean>();
  /** Hand-overs of entries received from members, waiting (see received). */
  readonly #later = new Map<string, TimerId>();
  /** Groups whose received entries are about to be announced with received() (see due). */
  readonly #due = new Set<string>();
  /** Waiting in idle() for a hand-over to start. */
  readonly #wakers: Array<() => void> = [];
  #closed = false;
  readonly #me: Uint8Array;
  /** The key in the group: ours, or on a device the person's. */
  readonly #member: Uint8Array;
  /** What the parts of a visit use of this mailbox. */
  readonly #ctx: VisitContext;

  constructor(host: GroupMailboxHost) {
    this.#host = host;
    this.#clock = host.clock ?? systemClock;
    this.#me = host.keyPair.publicKey;
    this.#member = host.member ?? this.#me;
    this.#ctx = {
      host,
      me: this.#me,
      member: this.#member,
      epochsOf: (chat) => this.#epochsOf(chat),
      visit: (s, chat, forward) => this.#visit(s, chat, forward),
    };
  }

  /** A session with an anchor is up: visit it for every group we are in. */
  attach(peer: Uint8Array, rpc: RpcSession, name: string): void {
    const k = toHex(peer);
    const s: AnchorSession = { peer, rpc, name, notified: new Set(), looked: new Set() };
    this.#anchors.set(k, s);
    rpc.onClose(() => {
      if (this.#anchors.get(k) === s) this.#anchors.delete(k);
    });
    rpc.handle("mbox.notify", async ({ tag }) => {
      if (this.#host.notified?.(peer, tag)) return {};
      for (const g of this.#host.groups.all()) {
        if ((await this.#epochsOf(g.id)).some((ep) => ep.keys.tag === tag)) {
          s.notified.add(tag);
          this.#visit(s, g.id, false);
        }
      }
      if (this.#pointerTags.has(tag)) this.#readPointers(s).catch(() => {});
      return {};
    });
    for (const g of this.#host.groups.all()) this.#visit(s, g.id, true);
    this.#readPointers(s).catch((err) => {
      if (!s.rpc.closed) this.#host.say(`pointers at ${s.name}: ${(err as Error).message}`);
    });
  }

  /** Group `chat` changed here: hand our new entries to every anchor we are connected to. */
  changed(chat: string): void {
    for (const s of this.#anchors.values()) this.#visit(s, chat, false);
  }

  /**
   * Entries of `chat` came from another member: hand them over a little
   * later. Their author, if connected to the anchor, has usually done so by
   * then, and the has-check in push then finds nothing to upload.
   */
  received(chat: string): void {
    this.#due.delete(chat);
    if (this.#later.has(chat) || this.#closed) return this.#wake();
    this.#later.set(
      chat,
      this.#clock.setTimeout(() => {
        this.#later.delete(chat);
        for (const s of this.#anchors.values()) this.#visit(s, chat, true);
        this.#wake();
      }, RECEIVED_DELAY_MS),
    );
  }

  /**
   * Entries of `chat` came from a member and `received(chat)` follows
   * shortly (the group service passes them on a moment later): idle() waits
   * for that hand-over too.
   */
  due(chat: string): void {
    if (!this.#closed) this.#due.add(chat);
  }

  /**
   * Resolves when no visit is under way, waiting or due: the mailbox is
   * quiescent (for tests and benchmarks, instead of a sleep).
   */
  async idle(): Promise<void> {
    while (this.#running.size > 0 || this.#later.size > 0 || this.#due.size > 0) {
      const started = this.#later.size > 0 || this.#due.size > 0
        ? new Promise<void>((resolve) => this.#wakers.push(resolve))
        : undefined;
      await Promise.all([...this.#running.values(), started]);
    }
  }

  /** Cancels waiting hand-overs (the node is stopping). */
  close(): void {
    this.#closed = true;
    for (const t of this.#later.values()) this.#clock.clearTimeout(t);
    this.#later.clear();
    this.#due.clear();
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#wakers.splice(0)) w();
  }

  #readPointers(s: AnchorSession): Promise<void> {
    return readPointers(this.#ctx, s, this.#pointerTags);
  }

  /**
   * Fetches from the anchor, then hands it our entries of `chat` and, with
   * `forward`, everyone else's it lacks: on connect, and a while after
   * entries arrived from a member (see received), not on every local change
   * or anchor notice, or members would race their authors to the anchor.
   */
  #visit(s: AnchorSession, chat: string, forward: boolean): void {
    const g = this.#host.groups.get(chat);
    if (!g?.membership.members.has(toHex(this.#member)) || s.rpc.closed) return;
    const k = `${toHex(s.peer)}/${chat}`;
    if (this.#running.has(k)) {
      this.#again.set(k, forward || (this.#again.get(k) ?? false));
      return;
    }
    const run = (async () => {
      for (let fwd: boolean | undefined = forward; fwd !== undefined; fwd = this.#again.get(k)) {
        this.#again.delete(k);
        if (s.rpc.closed) break;
        const stored = await fetchDue(this.#ctx, s, chat, this.#clock.now());
        const visited = () =>
          this.#host.note?.({ op: "visited", anchor: s.name, chat, stored, forward: fwd });
        if (!this.#host.groups.get(chat)?.membership.members.has(toHex(this.#member))) {
          // Removed while away: a pointer may be waiting for a later re-add.
          await this.#readPointers(s);
          visited();
          break;
        }
        const epochs = await this.#epochsOf(chat);
        if (epochs.length > 0) {
          await push(this.#ctx, s, chat, epochs, fwd);
          await point(this.#ctx, s, chat, epochs);
        }
        visited();
        if (epochs.length === 0) break;
      }
    })().catch((err) => {
      if (!s.rpc.closed) {
        this.#host.say(`mailbox of ${s.name} for ${chat}: ${(err as Error).message}`);
      }
    }).finally(() => this.#running.delete(k));
    this.#running.set(k, run);
  }

  /**
   * The epochs of `chat` this node files under and fetches, oldest first:
   * sealed to us, to nobody outside the epoch's members, and opening.
   */
  async #epochsOf(chat: string): Promise<MailEpoch[]> {
    const m = this.#host.groups.get(chat)?.membership;
    if (!m) return [];
    const known = this.#epochs.get(chat);
    if (known?.of === m) return known.epochs;
    const me = toHex(this.#member);
    const out: MailEpoch[] = [];
    for (const ep of m.epochs) {
      if (!ep.keys.has(me) || [...ep.keys.keys()].some((k) => !ep.members.has(k))) continue;
      const author = m.ever.get(ep.author);
      if (!author) continue;
      let got = this.#derived.get(`${chat}/${ep.id}`);
      if (!got) {
        const key = await this.#host.groups.epochKey(chat, ep.id);
        if (!key) continue;
        const secret = epochMailboxSecret(chat, ep.id, key);
        got = { id: ep.id, lamport: ep.lamport, author, secret, keys: mailboxKeys(secret) };
        this.#derived.set(`${chat}/${ep.id}`, got);
      }
      out.push(got);
    }
    this.#epochs.set(chat, { of: m, epochs: out });
    return out;
  }
}
