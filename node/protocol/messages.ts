/**
 * The Roj protocol, spoken inside the `roj` SSH subsystem (and in relayed and
 * punched sessions, which carry an SSH session of their own).
 *
 * Framing (codec.ts): every frame is
 *
 *   +----------------------------+-----------------------------------------+
 *   | uint32 big-endian length n | n bytes: one UTF-8 JSON object (a frame) |
 *   +----------------------------+-----------------------------------------+
 *     1 <= n <= MAX_FRAME (1 MiB)
 *
 * A frame over MAX_FRAME (refused from its header, before the payload is
 * read), a payload that is not JSON, or one that fails its schema closes the
 * session (only that session). Frames of an unknown `t` are ignored, so newer
 * peers can add kinds without breaking older ones.
 *
 * Frames:
 *
 *   {"t":"hello","v":1,"features":[…],"name":"alice","sees":"203.0.113.7:50022","agree":"…","i":"…"}
 *       first frame in each direction. `features` (features.ts, at most 64 of
 *       at most 32 characters) says what the sender serves; `sees` is the
 *       address the sender sees the receiver at (how a node learns its outside
 *       address); `agree` (base64, 32 bytes; only from a node whose key is in
 *       ssh-agent) the X25519 key to seal to instead of the sender's ed25519
 *       key's, trusted because the SSH session under it is that key's; `cert`
 *       (base64, at most 4096 bytes; only from a device of a person) the
 *       device's certificate, checked before anything else is served
 *   {"t":"req","id":7,"m":"sync.push","p":{…}}         a request; ids are per direction
 *   {"t":"res","id":7,"ok":true,"r":{…}}               its answer
 *   {"t":"res","id":7,"ok":false,"code":"…","msg":"…"} or its refusal (a RojError code)
 *
 * A binary answer (feature files1, only ever sent in answer to a request of
 * a method methods.ts marks `binary`, which only a peer that listed files1
 * sends, so an older peer never sees one):
 *
 *   [ byte 0x00 ][ byte 0x62 "b" ][ uint64 big-endian request id ][ the result bytes ]
 *
 *   A JSON frame never starts with 0x00. It answers `files.get` with the
 *   chunk's raw bytes: no base64, no JSON, one copy.
 *
 * Bulk pages (feature bulk1, protocol/bulk.ts; only to a peer that listed
 * bulk1): a `sync.push` goes as a binary request, and an `mbox.get` asked by
 * such a peer is answered in a binary answer (above), each holding the page
 * in bulk.ts's layout:
 *
 *   [ byte 0x00 ][ byte 0x71 "q" ][ uint64 big-endian request id ]
 *   [ byte method length m, 1..64 ][ m bytes: the method, [a-z.] ][ the params bytes ]
 *
 *   Its answer is the method's ordinary one. A head that is malformed closes
 *   the session; params that do not decode are answered bad_input.
 *
 * Methods (params → result) and their schemas are in methods.ts; rpc.ts types
 * `request` and `handle` from them and checks each once, at the edge: params
 * that fail their schema are answered `bad_input` before any handler runs, and
 * a result that fails its schema fails the request with `bad_input`. A method
 * the receiver does not serve is answered `unknown_method`, so a peer may try
 * a newer method and fall back; features say in advance which methods to try.
 *
 * History. PROTOCOL_VERSION has stayed 1: every step below only added methods
 * and features, which older peers answer `unknown_method` or do not list.
 *
 *   | version | step                  | features       | methods                                  |
 *   | ------- | --------------------- | -------------- | ---------------------------------------- |
 *   | 1       | chats and invites     | sync1          | invite.redeem, sync.heads, sync.push     |
 *   | 1       | finding each other    | anchor         | addr.put, addr.get, addr.mine,           |
 *   |         |                       |                | addr.notify                              |
 *   | 1       | group mailbox         | mailbox        | mbox.put, mbox.get, mbox.notify          |
 *   | 1       | UDP hole punching     | punch          | punch.probe, punch.ask, punch.offer      |
 *   | 1       | relayed sessions      | relay          | relay.open, relay.offer, reach.check     |
 *   | 1       | mailbox dedupe        | (mailbox)      | mbox.has                                 |
 *   | 1       | punch vouches         | (punch)        |                                          |
 *   | 1       | hello `agree` field   | agree          |                                          |
 *   | 1       | introductions         | intro          | intro.offer, intro.answer, intro.done,   |
 *   |         |                       |                | intro.end, intro.request                 |
 *   | 1       | 1:1 mail              | dmail          | mbox.peek                                |
 *   | 1       | carrying 1:1 mail     | carry          |                                          |
 *   | 1       | linking devices       | devlink        | device.link                              |
 *   | 1       | hello `cert` field    | devices        |                                          |
 *   | 1       | removing devices      | (devices)      | device.revoke                            |
 *   | 1       | own chain check       | own-chain      | sync.own, identity.elsewhere             |
 *   | 1       | receipts and typing   | receipts,      | chat.read, chat.typing                   |
 *   |         |                       | typing         |                                          |
 *   | 1       | files                 | files1         | files.list, files.get                    |
 *   | 1       | group receipts        | greceipts      |                                          |
 *   | 1       | two-phase linking     | devlink2       | device.confirm, device.renew,            |
 *   |         | and renewals          |                | device.cert                              |
 *   | 1       | 1:1 mail deleted once | dmail-ack      | mbox.ack                                 |
 *   |         | taken                 |                |                                          |
 *   | 1       | a person's devices    | devsync1       | devsync.addresses                        |
 *   | 1       | binary sync pages     | bulk1          |                                          |
 *   | 1       | files in groups       | gfiles1        | gfile.offer                              |
 *   | 1       | a person's devices'   | devcontacts1   | devsync.contacts                         |
 *   |         | contacts              |                |                                          |
 *   | 1       | a person's devices'   | devprefs1      | devsync.prefs                            |
 *   |         | chat settings, read   |                |                                          |
 *   | 1       | a person's devices'   | devinvites1    | devsync.invites                          |
 *   |         | issued invites        |                |                                          |
 *   | 1       | a person's devices'   | devgroups1     | devsync.groups, devsync.gop              |
 *   |         | groups                |                |                                          |
 *   | 1       | mail between a        | ownmail1       |                                          |
 *   |         | person's devices      |                |                                          |
 *   | 1       | the person's          | devagree1      | devsync.agree, agree.person              |
 *   |         | agreement key (hello  |                |                                          |
 *   |         | `pagree`)             |                |                                          |
 *   | 1       | an invite's issuing   | devinvites2    |                                          |
 *   |         | device (a `by` field) |                |                                          |
 *   | 1       | a person's devices    | devlist1       | devsync.devices                          |
 *   |         | known to each other   |                |                                          |
 *   | 1       | chat settings, read   | ownmail2       |                                          |
 *   |         | marks, invites by own |                |                                          |
 *   |         | mail                  |                |                                          |
 *   | 1       | cards with device     | intro2         |                                          |
 *   |         | certificates (v2)     |                |                                          |
 *
 *   sync1    every node
 *   agree    every node: seals to the X25519 key a contact's hello publishes
 *   anchor   a passive anchor (`--passive`): holds sealed records, runs no chats
 *   mailbox  an anchor that serves the group mailbox
 *   dmail    an anchor that holds 1:1 mail too (same methods, store, quotas and expiry)
 *   carry    a person's node that holds 1:1 mail between its contacts (mbox.*; not `--no-carry`)
 *   punch    a node that serves QUIC probes and coordinates punches (not `--no-punch`)
 *   relay    a node that relays for its contacts and dials back (not `--no-relay`)
 *   intro    introductions: a person's node takes and makes them, an anchor brokers own cards
 *   devlink  a person's node that certifies a new device of the person for a link code's holder
 *   devices  a person's node that keeps a session from a contact's certified device as the contact's
 *   dmail-ack an anchor or carrying node that deletes 1:1 mail boxes on their recipient's mbox.ack
 *   gfiles1  every node: serves sealed group file chunks (members, anchors); an anchor takes gfile.offer
 *   devcontacts1 a person's node that keeps its contacts in step with the person's other
 *            devices over the devsync1 session (devsync.contacts; node/device_sync/contact_sync.ts)
 *   devprefs1 a person's node that keeps each chat's settings and read mark in step with the
 *            person's other devices over the devsync1 session (devsync.prefs; prefs_sync.ts)
 *   devinvites1 a person's node that keeps the invites the person issued in step with the
 *            person's other devices (devsync.invites; node/device_sync/invite_sync.ts)
 *   devgroups1 a person's node that hands the person's other devices its groups and their
 *            epoch keys, and syncs the groups with them (node/device_sync/group_sync.ts)
 *   ownmail1 a person's node that files what it wrote for the person's other devices at the
 *            person's anchors, sealed per pair of devices, and fetches theirs (mailbox/own_mail.ts)
 *   devagree1 a person's node that publishes the person's agreement key (hello `pagree`), seals
 *            group keys to a contact's, and hands it to the person's devices (devsync.agree;
 *            node/device_sync/person_agreement.ts)
 *   devinvites2 a person's node whose devsync.invites records say which device issued each
 *            invite (`by`), so all the person's devices refuse a revoked device's invites
 *   devlist1 a person's node that hands the person's other devices the device certificates
 *            and addresses it holds, so that they meet (node/device_sync/device_list.ts)
 *   ownmail2 a person's node whose own mail carries chat settings, read marks and issued
 *            invites too, in boxes of their own (mailbox/own_mail_records.ts)
 *   intro2   every node: takes v2 cards, which carry device certificates, in intro.offer and
 *            intro.request (introductions/card_v2.ts); others are handed v1 cards
 *
 *   Linking devices: the new device logs in with its own key and the SSH user
 *   name "devlink" (accepted only while a link code made here is kept), and
 *   the session serves nothing but device.link. The new device proves the
 *   code's secret (HMAC, linking/link_proof.ts) and gets its OpenSSH
 *   certificate, signed by the person key. ssh2 cannot authenticate with
 *   certificates (mscdex/ssh2#551), so a certificate travels inside this
 *   protocol, as a base64 blob in a result or a request.
 *
 *   A contact's devices: a device logs in to its person's contacts with its
 *   own key and the SSH user name "dev-<person key, 64 hex>" (accepted only
 *   for a contact's key), and its hello carries `cert`. The receiver holds
 *   every request until the certificate checked out (signed by the contact's
 *   key, for the key that logged in, valid now, not revoked), then keeps the
 *   session as the contact's; anything else closes it. An older node refuses
 *   the login (it knows no such user name), so a device reaches only contacts
 *   that list `devices`; the person key's own node is unchanged for everyone.
 *   A device's invite (contacts/person_invite.ts, the text format, no method)
 *   names the person key and carries the device certificates: its acceptor
 *   logs in as `invite-<nonce>` at a device's address expecting that device's
 *   host key, holds the session until the hello's `cert` checked out as above,
 *   then redeems (invite.redeem) and keeps it as the person's.
 *   own-chain  a node that runs chats: the heads it answers carry `h` and `t` for the asker's
 *            own chain (methods.ts HeadItem), its hello an instance id `i`; it serves
 *            sync.own (the proof behind such a hash) and identity.elsewhere (its key
 *            has a live session here from another node)
 *   receipts a node that runs chats: takes read receipts (`chat.read`)
 *   typing   a node that runs chats: takes typing notices (`chat.typing`)
 *   files1   a node that serves the chunks of files in chats it shares (not an anchor)
 *   greceipts  a node that runs chats: takes read receipts in groups (`chat.read`, a group id)
 *   devlink2 linking in two phases: a new device confirms once its folder is written (device.confirm);
 *            a device fetches its renewed certificate (device.renew); a person's node hands its
 *            contacts its devices' renewed certificates (device.cert)
 *   devsync1 a person's node that syncs its direct chats with the person's other devices: a
 *            session whose SSH user name is "dev-<its own person's key>", from the person
 *            key or a device key whose hello `cert` chains to it (valid now, not revoked),
 *            served only once that checked out (node/device_sync)
 *   bulk1    every node: takes sync.push in binary, and mbox.get answered in binary
 *
 *   Punch vouches: an asker signs the endpoint its coordinator saw it at
 *   (punch/vouch.ts) and the coordinator passes it on; a target takes no offer
 *   without one. An older peer strips the field (params are not strict), so
 *   punches from an older asker or through an older coordinator are refused
 *   by a newer target: those contacts come through a relay.
 *
 * A new method goes into methods.ts and into this table; a new feature into
 * features.ts and this table (features_test.ts checks both). A change that
 * older peers would misread (a changed frame or a changed method) needs
 * PROTOCOL_VERSION 2 and a row here saying what a version-1 peer gets.
 */
import { z } from "zod";

export const PROTOCOL_VERSION = 1;
/** Largest frame payload accepted or sent. */
export const MAX_FRAME = 1024 * 1024;

export const HelloSchema = z.object({
  t: z.literal("hello"),
  v: z.number().int().min(1).max(1000),
  features: z.array(z.string().max(32)).max(64),
  name: z.string().max(64),
  sees: z.string().max(300).optional(),
  agree: z.string().regex(/^[A-Za-z0-9+/]{43}=$/).optional(),
  /** The person's agreement key (base64, 32 bytes; feature devagree1, device_sync/person_agreement.ts). */
  pagree: z.string().regex(/^[A-Za-z0-9+/]{43}=$/).optional(),
  /** A device's OpenSSH certificate from its person (base64), see "A contact's devices". */
  cert: z.string().max(5464).regex(/^[A-Za-z0-9+/]*={0,2}$/).optional(),
  /**
   * The sender's instance id, new at each start (feature `own-chain`): a
   * contact tells two nodes on one key apart by it (identity_guard/twin_sessions.ts).
   */
  i: z.string().regex(/^[0-9a-f]{32}$/).optional(),
});
export type Hello = z.infer<typeof HelloSchema>;

export const RequestSchema = z.object({
  t: z.literal("req"),
  id: z.number().int().min(0).max(2 ** 53 - 1),
  m: z.string().min(1).max(64),
  p: z.unknown(),
});
export type Request = z.infer<typeof RequestSchema>;

export const ResponseSchema = z.union([
  z.object({
    t: z.literal("res"),
    id: z.number().int().min(0),
    ok: z.literal(true),
    r: z.unknown(),
  }),
  z.object({
    t: z.literal("res"),
    id: z.number().int().min(0),
    ok: z.literal(false),
    code: z.string().max(64),
    msg: z.string().max(1000),
  }),
]);
export type Response = z.infer<typeof ResponseSchema>;

/** A binary answer (see the top of this file): raw result bytes for request `id`. */
export interface BinaryAnswer {
  readonly t: "bin";
  readonly id: number;
  readonly bytes: Uint8Array;
}

/** First two payload bytes of a binary answer. */
export const BINARY_ANSWER_HEAD = [0x00, 0x62] as const;

/** A binary request (feature bulk1, see the top of this file): `m`'s params as bytes. */
export interface BinaryRequest {
  readonly t: "breq";
  readonly id: number;
  readonly m: string;
  readonly bytes: Uint8Array;
}

/** First two payload bytes of a binary request. */
export const BINARY_REQUEST_HEAD = [0x00, 0x71] as const;

/** Any frame: the known kinds, or an unknown kind (to be ignored). */
export type Frame = Hello | Request | Response | BinaryAnswer | BinaryRequest | { t: string };
