/**
 * Parameters and results of each protocol method. RpcSession (rpc.ts) takes
 * its types from here and checks every received params and result against
 * these schemas, once: nothing else in the node needs to call check().
 */
import { z } from "zod";
import { base64 } from "@scure/base";
import { RojError } from "../errors.ts";
import { MAX_BODY_BYTES } from "../log/mod.ts";
import { lazyEntries } from "./lazy.ts";

const b64 = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9+/]*={0,2}$/);
const hex = (len: number) => z.string().length(len).regex(/^[0-9a-f]*$/);
/** A mailbox box in base64: an entry of the largest body, its signature, sealing overhead. */
const MAX_BOX_B64 = ((MAX_BODY_BYTES + 8 * 1024) * 4) / 3 + 4;
/** A card in base64: a v2 card (introductions/card_v2.ts MAX_CARD_V2_BYTES, 2560) at most. */
const MAX_CARD_B64 = 3416;
const chatId = z.string().regex(/^[a-z0-9-]{1,64}$/);
/** Contacts a new device gets when it is linked (each ≤ ~1.3 KiB, so the answer fits a frame). */
export const MAX_LINK_CONTACTS = 256;
/** Most chunk hashes in one files.list answer (256 KiB, ~350 KiB of base64). */
export const MAX_LIST_HASHES = 8192;
/** Largest chunk files.get carries (files/manifest.ts MAX_CHUNK_BYTES), ~700 KiB of base64. */
export const MAX_CHUNK_WIRE = 512 * 1024;
/** Most entries in one push; sized so a full batch stays under MAX_FRAME. */
export const MAX_PUSH_ENTRIES = 1000;

export const WireEntry = z.object({
  s: b64(Math.ceil((MAX_BODY_BYTES + 1024) * 4 / 3) + 4),
  g: b64(2048),
});
export type WireEntry = z.infer<typeof WireEntry>;

/** A punch asker's signed vouch for its endpoint (punch/vouch.ts), and when it expires. */
const punchVouch = z.object({ sig: b64(400), expires: z.number().int().min(0).max(2 ** 53 - 1) });
const seqNumber = z.number().int().min(0).max(2 ** 53 - 1);
/** A group chat id (groups/group_id.ts GROUP_ID_RE). */
const groupId = z.string().regex(/^g-[a-z2-7]{26}$/);
/**
 * A head: author `a`, last seq `s`. For the asker's own chain only, and only
 * to a peer that lists `own-chain` (features.ts): `h`, the hash of that
 * entry, and `t`, a fork of the asker's chain on record here (seq and the
 * twin's hash), so a node learns that its key signed elsewhere
 * (node/identity_guard). Older peers leave both out and ignore them.
 */
export const HeadItem = z.object({
  a: b64(44),
  s: seqNumber,
  h: b64(44).optional(),
  t: z.object({ s: seqNumber, h: b64(44) }).optional(),
});
export type HeadItem = z.infer<typeof HeadItem>;

/** A relayed session's pairing token (node/relay). */
const relayToken = z.string().regex(/^[0-9a-f]{32}$/);

export const schemas = lazyEntries({
  "invite.redeem": () => ({
    params: z.object({
      nonce: z.string().regex(/^[0-9a-f]{32}$/),
      name: z.string().min(1).max(40),
      addresses: z.array(z.string().max(300)).max(8),
    }),
    result: z.object({ name: z.string().min(1).max(40) }),
  }),
  "sync.heads": () => ({
    params: z.object({ chat: chatId }),
    result: z.object({ heads: z.array(HeadItem).max(10_000) }),
  }),
  "sync.push": () => ({
    params: z.object({ chat: chatId, entries: z.array(WireEntry).min(1).max(MAX_PUSH_ENTRIES) }),
    result: z.object({
      heads: z.array(HeadItem).max(10_000),
      stored: z.number().int().min(0),
      rejected: z.number().int().min(0),
      reason: z.string().max(300).optional(),
    }),
  }),
  /**
   * The entry of the asker's own chain held here at `seq` (feature
   * `own-chain`): the proof, signed by the asker's key, behind a head hash
   * that is not the asker's (node/identity_guard). Only the asker's own
   * entries are served; none when not held.
   */
  "sync.own": () => ({
    params: z.object({ chat: chatId, seq: seqNumber.min(1) }),
    result: z.object({ e: WireEntry.optional() }),
  }),
  /**
   * Your key has a live session here from another node as well (feature
   * `own-chain`, node/identity_guard): `kept` says whether it is yours that
   * stays; the other is refused while yours is up.
   */
  "identity.elsewhere": () => ({
    params: z.object({ kept: z.boolean() }),
    result: z.object({}),
  }),
  /** Store sealed copies of the sender's address record, by tag. */
  "addr.put": () => ({
    params: z.object({ items: z.array(z.object({ t: b64(24), b: b64(1900) })).min(1).max(256) }),
    result: z.object({ stored: z.number().int().min(0) }),
  }),
  /** Sealed copies held for these tags (those not held are left out). */
  "addr.get": () => ({
    params: z.object({ tags: z.array(b64(24)).min(1).max(256) }),
    result: z.object({ items: z.array(z.object({ t: b64(24), b: b64(1900) })).max(256) }),
  }),
  /** The sender's own signed address record, for a contact. */
  "addr.mine": () => ({
    params: z.object({ record: b64(1700) }),
    result: z.object({}),
  }),
  /** Copies for these tags just arrived here: ask if you are waiting for one. */
  "addr.notify": () => ({
    params: z.object({ tags: z.array(b64(24)).min(1).max(256) }),
    result: z.object({}),
  }),
  /**
   * Group mailbox on an anchor (node/mailbox/): hold these sealed boxes under
   * `tag`, in order; `taken` leading boxes are held, the next was refused for `reason`.
   */
  "mbox.put": () => ({
    params: z.object({
      tag: hex(32),
      items: z.array(z.object({ i: hex(32), b: b64(Math.ceil(MAX_BOX_B64)) })).min(1).max(500),
      /** Feature dmail-ack: SHA-256 (hex) of the token whose mbox.ack deletes these boxes. */
      k: hex(64).optional(),
    }),
    result: z.object({
      taken: z.number().int().min(0),
      stored: z.number().int().min(0),
      duplicates: z.number().int().min(0),
      reason: z.string().max(300).optional(),
    }),
  }),
  /** Boxes held under `tag` numbered after `after`, oldest first. */
  "mbox.get": () => ({
    params: z.object({
      tag: hex(32),
      after: z.number().int().min(0).max(2 ** 53 - 1),
      limit: z.number().int().min(1).max(1000).optional(),
    }),
    result: z.object({
      gen: z.string().max(64),
      items: z.array(z.object({ n: z.number().int().min(1), b: b64(Math.ceil(MAX_BOX_B64)) }))
        .max(1000),
      more: z.boolean(),
    }),
  }),
  /** Which of these box ids under `tag` the anchor does not hold (so the sender uploads only those). */
  "mbox.has": () => ({
    params: z.object({ tag: hex(32), ids: z.array(hex(32)).min(1).max(1000) }),
    result: z.object({ missing: z.array(hex(32)).max(1000) }),
  }),
  /**
   * 1:1 mail (features dmail, carry): which of these tags hold boxes
   * numbered after their `a`, so a member fetches only those; the holder
   * tells of new boxes under each of them later (mbox.notify), as for mbox.get.
   */
  "mbox.peek": () => ({
    params: z.object({
      tags: z.array(z.object({ t: hex(32), a: z.number().int().min(0).max(2 ** 53 - 1) }))
        .min(1).max(512),
    }),
    result: z.object({ gen: z.string().max(64), tags: z.array(hex(32)).max(512) }),
  }),
  /** Anchor to member: new boxes arrived under a tag you fetched in this session. */
  "mbox.notify": () => ({
    params: z.object({ tag: hex(32) }),
    result: z.object({}),
  }),
  /**
   * UDP hole punching (node/punch/). Asked of a coordinator: a nonce to send
   * in a QUIC probe to its UDP `port` (certificate pinned by `cert`), so that
   * it sees which public UDP endpoint our packets come from.
   */
  "punch.probe": () => ({
    params: z.object({}),
    result: z.object({ nonce: b64(24), cert: b64(44), port: z.number().int().min(1).max(65535) }),
  }),
  /**
   * Asked of a coordinator: introduce us (probed with `nonce`) to contact
   * `peer`; `cert` pins our QUIC certificate; `vouch` is our signature over
   * the endpoint the probe's answer said (punch/vouch.ts), which the
   * coordinator passes on: a target takes no offer without it. The answer is
   * the peer's public UDP endpoint and certificate, once it has started
   * opening its NAT to us.
   */
  "punch.ask": () => ({
    params: z.object({
      peer: b64(44),
      nonce: b64(24),
      cert: b64(44),
      vouch: punchVouch.optional(),
    }),
    result: z.object({ endpoint: z.string().max(64), cert: b64(44) }),
  }),
  /**
   * From a coordinator to the target: `peer`, seen at `endpoint` with QUIC
   * certificate `cert`, wants a punched session. The target probes the
   * coordinator with `nonce` (UDP `port`, certificate `probeCert`), starts
   * sending towards `endpoint` (only with the asker's `vouch` for it), and
   * answers with its own certificate.
   */
  "punch.offer": () => ({
    params: z.object({
      peer: b64(44),
      endpoint: z.string().max(64),
      cert: b64(44),
      nonce: b64(24),
      probeCert: b64(44),
      port: z.number().int().min(1).max(65535),
      vouch: punchVouch.optional(),
    }),
    result: z.object({ cert: b64(44) }),
  }),
  // Relayed sessions and reachability (node/relay).
  /** To a relay: splice me to the peer with this key (raw 32 bytes, base64). */
  "relay.open": () => ({
    params: z.object({ to: b64(44) }),
    result: z.object({ token: relayToken }),
  }),
  /**
   * From a relay to its target: the key `from` asks for a relayed session.
   * Accepting means opening the subsystem "roj-relay-<token>" to the relay
   * before answering; a refusal's message goes back to the asker.
   */
  "relay.offer": () => ({
    params: z.object({ from: b64(44), token: relayToken }),
    result: z.object({}),
  }),
  // Introductions (node/introductions). A card is introductions/card.ts's signed bytes.
  /** From an introducer: a card of another person it introduces to you. */
  "intro.offer": () => ({
    params: z.object({ card: b64(MAX_CARD_B64) }),
    result: z.object({}),
  }),
  /** To the introducer: accept or decline the introduction `id`. */
  "intro.answer": () => ({
    params: z.object({ id: hex(32), accept: z.boolean() }),
    result: z.object({}),
  }),
  /**
   * From the introducer: both accepted introduction `id`; you are contacts
   * now. With `dial`, open the first session through the introducer (relay.open).
   */
  "intro.done": () => ({
    params: z.object({ id: hex(32), dial: z.boolean() }),
    result: z.object({}),
  }),
  /** From the introducer: introduction `id` ended unaccomplished. */
  "intro.end": () => ({
    params: z.object({ id: hex(32), reason: z.enum(["declined", "expired"]) }),
    result: z.object({}),
  }),
  /**
   * To the introducer who made this shareable card: introduce me to its
   * person under the id I chose (I accept already). The answer is when it expires.
   */
  "intro.request": () => ({
    params: z.object({ card: b64(MAX_CARD_B64), id: hex(32) }),
    result: z.object({ expires: z.number().int().min(0).max(2 ** 53 - 1) }),
  }),
  /**
   * On a `devlink` session (DEVLINK_FEATURE): certify my key as a device of
   * yours, named `name`; `proof` shows I hold the link code's secret. The
   * answer is the certificate (the OpenSSH blob) and the person's name.
   */
  "device.link": () => ({
    params: z.object({
      proof: hex(64),
      name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/),
    }),
    result: z.object({
      certificate: b64(5464),
      person: z.string().min(1).max(40),
      /** The person's contacts, for the new device to start with (a copy: they do not sync yet). */
      contacts: z.array(z.object({
        key: b64(44),
        name: z.string().min(1).max(40),
        addresses: z.array(z.string().max(300)).max(4),
        anchor: z.boolean(),
      })).max(MAX_LINK_CONTACTS),
    }),
  }),
  /**
   * From a person's node to its contacts (DEVICES_FEATURE): the person's
   * signed revocation of one of their devices (devices/revocation.ts), kept
   * for good; the device is refused from then on.
   */
  "device.revoke": () => ({
    params: z.object({ revocation: b64(1368) }),
    result: z.object({}),
  }),
  /**
   * On a `devlink` session, when both sides list `devlink2`: I wrote my folder
   * with the certificate `device.link` gave me; record me as your device and
   * mark the code used (link_decision.ts). Asked again after that, it answers
   * the same.
   */
  "device.confirm": () => ({
    params: z.object({}),
    result: z.object({}),
  }),
  /**
   * On a `devlink` session from a device linked here (devlink2): my
   * certificate as it is now, renewed first when it is due and the person
   * key is at hand (devices/renewal.ts).
   */
  "device.renew": () => ({
    params: z.object({}),
    result: z.object({ certificate: b64(5464) }),
  }),
  /**
   * From a person's node to its contacts (devlink2): a device certificate of
   * mine, renewed; keep it in your device book (the one ending last counts).
   */
  "device.cert": () => ({
    params: z.object({ certificate: b64(5464) }),
    result: z.object({}),
  }),
  /** Dial me back at this address (host must be where you see me) and say whether it worked. */
  "reach.check": () => ({
    params: z.object({ address: z.string().min(1).max(300) }),
    result: z.object({ reached: z.boolean() }),
  }),
  // Read receipts and typing (node/chats/receipts.ts): session frames only, never stored.
  /** I have read your entries in our direct chat up to your #seq ("read", nothing more). */
  "chat.read": () => ({
    params: z.object({ chat: chatId, seq: z.number().int().min(1).max(2 ** 53 - 1) }),
    result: z.object({}),
  }),
  /** I am typing in our direct chat or a group we are both in (ephemeral; too many are dropped). */
  "chat.typing": () => ({
    params: z.object({ chat: chatId }),
    result: z.object({}),
  }),
  // Files (node/files), feature files1: chunks move outside the log, each checked on arrival.
  /** Chunk hashes `from`.. of the file with this root (32 bytes each, concatenated). */
  "files.list": () => ({
    params: z.object({
      root: hex(64),
      from: z.number().int().min(0).max(2 ** 32),
      count: z.number().int().min(1).max(MAX_LIST_HASHES),
    }),
    result: z.object({ hashes: b64(Math.ceil((MAX_LIST_HASHES * 32) / 3) * 4) }),
  }),
  /** Chunk `index` of the file with this root, answered in a binary frame (messages.ts). */
  "files.get": () => ({
    params: z.object({ root: hex(64), index: z.number().int().min(0).max(2 ** 32) }),
    result: z.object({
      b: z.custom<Uint8Array>((v) => v instanceof Uint8Array).refine(
        (b) => b.length >= 1 && b.length <= MAX_CHUNK_WIRE,
        {
          message: `a chunk is 1 to ${MAX_CHUNK_WIRE} bytes`,
        },
      ),
    }),
    binary: true as const,
  }),
  /**
   * 1:1 mail (feature dmail-ack): I took and committed the boxes under `tag`
   * numbered up to `upTo`; delete those filed with k = SHA-256(token).
   */
  "mbox.ack": () => ({
    params: z.object({
      tag: hex(32),
      upTo: z.number().int().min(1).max(2 ** 53 - 1),
      token: hex(64),
    }),
    result: z.object({ deleted: z.number().int().min(0) }),
  }),
  // A person's own devices (node/device_sync), feature devsync1: on a session whose SSH user
  // name is dev-<our person's key>, besides sync.heads, sync.push, sync.own and device.revoke.
  /** Where I listen (host:port each), for you to dial me when neither of us has the session. */
  "devsync.addresses": () => ({
    params: z.object({ addresses: z.array(z.string().min(1).max(300)).max(8) }),
    result: z.object({}),
  }),
  // Files in groups (node/files/group_files.ts), feature gfiles1: sealed chunks, any holder.
  /**
   * To an anchor: hold the sealed chunks of a group file (fetched back from
   * the asker with files.list and files.get); `held` once all are, else why not.
   */
  "gfile.offer": () => ({
    params: z.object({
      root: hex(64),
      size: z.number().int().min(0).max(2 ** 48),
      chunk: z.number().int().min(16 * 1024).max(MAX_CHUNK_WIRE),
    }),
    result: z.object({ held: z.boolean(), reason: z.string().max(300).optional() }),
  }),
  // A person's own devices' contacts (node/device_sync/contact_sync.ts), feature devcontacts1,
  // on a sibling session only.
  /** Contact changes the person made (or learnt) since you last took mine, oldest first. */
  "devsync.contacts": () => ({
    params: z.object({
      changes: z.array(z.object({
        key: b64(44),
        state: z.enum(["live", "blocked", "removed"]),
        name: z.string().max(40).regex(/^([\p{L}\p{N} ._@+-]{1,40})?$/u),
        addresses: z.array(z.string().min(1).max(300)).max(8),
        anchor: z.boolean(),
        at: seqNumber,
      })).min(1).max(64), // device_sync/contact_sync.ts MAX_CONTACT_CHANGES
    }),
    result: z.object({}),
  }),
  // A person's own devices' per-chat settings and read state (node/device_sync/prefs_sync.ts),
  // feature devprefs1, on a sibling session only.
  /**
   * Chats whose settings or read mark changed since you last took mine, oldest
   * first: the settings as of `at` (when the person set them, 0 if never),
   * and `read`, the Lamport clock up to which the person read the chat.
   */
  "devsync.prefs": () => ({
    params: z.object({
      changes: z.array(z.object({
        chat: z.string().regex(/^(?:[dn]-[a-z2-7]{32}|g-[a-z2-7]{26})$/), // log/chat_id.ts, groups/group_id.ts
        muted: z.boolean(),
        pinned: z.boolean(),
        archived: z.boolean(),
        at: seqNumber,
        read: seqNumber,
      })).min(1).max(64), // device_sync/prefs_sync.ts MAX_PREFS_CHANGES
    }),
    result: z.object({}),
  }),
  // A person's own devices' issued invites (node/device_sync/invite_sync.ts), feature
  // devinvites1, on a sibling session only.
  /**
   * Invites the person issued (on any device) as I hold them: by nonce, when each ends and how
   * many uses it has left; 0 once used up or withdrawn. You keep the fewer uses and the earlier end.
   */
  "devsync.invites": () => ({
    params: z.object({
      invites: z.array(z.object({
        nonce: z.string().regex(/^[0-9a-f]{32}$/),
        expires: seqNumber,
        uses: z.number().int().min(0).max(1000),
        // The issuing device's key (hex), to peers that list devinvites2.
        by: z.string().regex(/^[0-9a-f]{64}$/).optional(),
      })).min(1).max(64), // device_sync/invite_sync.ts MAX_INVITE_RECORDS
    }),
    result: z.object({}),
  }),
  // A person's own devices made known to each other (node/device_sync/device_list.ts), feature
  // devlist1, on a sibling session only.
  /**
   * The person's devices I hold, valid and not revoked (not you): each one's OpenSSH
   * certificate, signed by the person key, and where it last said it listens.
   */
  "devsync.devices": () => ({
    params: z.object({
      devices: z.array(z.object({
        cert: b64(5464),
        addresses: z.array(z.string().min(1).max(300)).max(8),
      })).min(1).max(16), // device_sync/device_list.ts MAX_LISTED_DEVICES
    }),
    result: z.object({}),
  }),
  // A person's own devices' groups (node/device_sync/group_sync.ts), feature devgroups1, on a
  // sibling session only.
  /** Groups the person is in, each with the epoch keys opened here (newest last). */
  "devsync.groups": () => ({
    params: z.object({
      groups: z.array(z.object({
        id: groupId,
        name: z.string().min(1).max(64),
        epochs: z.array(z.object({
          e: z.string().regex(/^[0-9a-f]{32}$/),
          k: b64(44),
        })).max(64), // device_sync/group_sync.ts MAX_HANDED_EPOCHS
      })).min(1).max(16), // device_sync/group_sync.ts MAX_HANDED_GROUPS
    }),
    result: z.object({}),
  }),
  /**
   * The sender's person's agreement key, now (feature devagree1): told to a contact after a
   * linking or a removal, as a new session's hello `pagree` would. On a contact's session only.
   */
  "agree.person": () => ({
    params: z.object({ k: z.string().regex(/^[A-Za-z0-9+/]{43}=$/) }),
    result: z.object({}),
  }),
  /**
   * The person's agreement key of generation `g`, sealed to the device key (feature devagree1,
   * node/device_sync/person_agreement.ts), from the node with the person key only.
   */
  "devsync.agree": () => ({
    params: z.object({ g: z.number().int().min(0).max(1_000_000), k: b64(124) }),
    result: z.object({}),
  }),
  /** A membership change the person made on a device, for the node with the person key to sign. */
  "devsync.gop": () => ({
    params: z.object({
      op: z.enum(["create", "add", "remove", "promote", "leave"]),
      /** The group; absent for create. */
      group: groupId.optional(),
      /** The new group's name (create). */
      name: z.string().min(1).max(64).optional(),
      /** Who is added, removed or promoted. */
      members: z.array(z.object({
        key: b64(44),
        name: z.string().min(1).max(64),
      })).max(16),
    }),
    result: z.object({ group: groupId }),
  }),
});

export type MethodName = keyof typeof schemas;

/**
 * Whether `method` is answered in a binary frame (its result `{ b }` is the
 * frame's bytes); only methods of a feature that introduced binary answers.
 */
export function answersBinary(method: string): boolean {
  return (schemas as Record<string, { binary?: boolean }>)[method]?.binary === true;
}
export type ParamsOf<M extends MethodName> = z.infer<(typeof schemas)[M]["params"]>;
export type ResultOf<M extends MethodName> = z.infer<(typeof schemas)[M]["result"]>;

/**
 * Checks a peer's params or result against the method's schema (RpcSession
 * does, at the edge). @throws {RojError} bad_input, the zod error as its cause
 */
export function check<M extends MethodName, K extends "params" | "result">(
  method: M,
  kind: K,
  value: unknown,
): z.infer<(typeof schemas)[M][K]> {
  const parsed = schemas[method][kind].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RojError(
      "bad_input",
      `${method} ${kind}: ${issue?.path.join(".") || "value"}: ${issue?.message ?? "invalid"}`,
      { cause: parsed.error },
    );
  }
  return parsed.data as z.infer<(typeof schemas)[M][K]>;
}

export const encodeB64 = (b: Uint8Array): string => base64.encode(b);
/** @throws {RojError} bad_input */
export function decodeB64(s: string): Uint8Array {
  try {
    return base64.decode(s);
  } catch (err) {
    throw new RojError("bad_input", "bad base64", { cause: err });
  }
}
