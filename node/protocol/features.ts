/**
 * Every feature string a node may list in its hello, in one place.
 *
 * A feature says "I serve these methods" or "I play this role"; a peer uses a
 * feature only when the other side listed it, so features can be added (and
 * dropped by options such as `--no-relay`) without a new PROTOCOL_VERSION.
 * The strings are on the wire: never rename one. The history of when each
 * appeared is the table at the top of messages.ts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { helloFeatures, peerHas, RELAY_FEATURE } from "./features.ts";
 *
 * const features = helloFeatures({ passive: false, punch: false, relay: true });
 * assert.deepEqual(features, [
 *   "sync1", "agree", "relay", "intro", "own-chain", "receipts", "typing", "files1", "greceipts",
 *   "bulk1", "gfiles1",
 * ]);
 * assert.ok(peerHas({ features }, RELAY_FEATURE));
 * ```
 */

/** Chat sync (`sync.heads`, `sync.push`) and invites. Every node lists it; since protocol 1. */
export const SYNC_FEATURE = "sync1";
/**
 * A passive anchor (`roj run --passive`): holds sealed address records for its
 * members and runs no chats. Since protocol 1, with the `addr.*` methods.
 */
export const ANCHOR_FEATURE = "anchor";
/**
 * Serves the group mailbox (`mbox.put`, `mbox.get`, `mbox.has`, `mbox.notify`).
 * Listed by anchors; since protocol 1 (the group mailbox step).
 */
export const MAILBOX_FEATURE = "mailbox";
/**
 * Holds 1:1 mail for contacts who are offline: boxes sealed to one contact
 * under rotating pairwise tags, through the `mbox.*` methods and under the
 * same quotas and expiry as group mail (node/mailbox/direct_mail.ts). Listed
 * by anchors beside `mailbox`; a member files 1:1 mail only at anchors that
 * list it. Since protocol 1 (the 1:1 mail step).
 */
export const DIRECT_MAIL_FEATURE = "dmail";
/**
 * Serves UDP hole punching (`punch.probe`, `punch.ask`, `punch.offer`): the
 * node listens for QUIC on its port (not `--no-punch`). Since protocol 1 (the
 * hole-punching step).
 */
export const PUNCH_FEATURE = "punch";
/**
 * Relays for its contacts (`relay.open`, `relay.offer`) and dials back on
 * `reach.check` (not `--no-relay`). Since protocol 1 (the relay step).
 */
export const RELAY_FEATURE = "relay";
/**
 * Introductions (`intro.offer`, `intro.answer`, `intro.done`, `intro.end`,
 * `intro.request`): a person's node takes cards of other people from its
 * contacts and makes introductions; an anchor brokers its members' own cards
 * (`intro.request`, `intro.answer` only). Every node lists it. Since protocol 1
 * (the introductions step).
 */
export const INTRO_FEATURE = "intro";

/**
 * Seals to the X25519 key a contact's hello publishes (`agree`: its key is in
 * ssh-agent, which cannot do key agreement), and publishes its own there when
 * it has one. Every node lists it; since protocol 1 (the ssh-agent step).
 */
export const AGREE_FEATURE = "agree";

/**
 * Carries 1:1 mail between its contacts: holds boxes sealed to one contact
 * of its, left by another, under the `mbox.*` methods with small bounds
 * (mailbox/direct_mail.ts `CARRY_LIMITS`). Listed by people's nodes unless
 * `--no-carry`; never by an anchor (which lists `dmail`). Since protocol 1
 * (the 1:1 mail step).
 */
export const CARRY_FEATURE = "carry";

/**
 * Links new devices of the person (`device.link`, on a session whose SSH user
 * name is `devlink`): the node holds the person key and certifies a new
 * device's key for the holder of a one-time link code (node/linking). Listed
 * by people's nodes, never by an anchor. Since protocol 1 (the devices step).
 */
export const DEVLINK_FEATURE = "devlink";

/**
 * Accepts a contact's certified devices: a session whose SSH user name is
 * `dev-<the person's key in hex>`, logged in with a device key, is kept as
 * that contact's once the hello's `cert` (the device's OpenSSH certificate)
 * chains to the contact's key, is valid now and not revoked (node/linking).
 * Every person's node lists it. Since protocol 1 (the devices step).
 */
export const DEVICES_FEATURE = "devices";

/**
 * Heads answers name, for the asker's own chain, the hash of its head entry
 * and any fork of it on record (`h`, `t` in methods.ts HeadItem), so a node
 * learns that its key signs on another node too (node/identity_guard).
 * Every node that runs chats lists it.
 */
export const OWN_CHAIN_FEATURE = "own-chain";

/**
 * Takes read receipts (`chat.read`): "read up to my entry #seq" in our direct
 * chat, on the session only, never stored in a log nor sent through anchors.
 * Listed by every node that runs chats (not `--passive`). Since protocol 1
 * (the receipts step).
 */
export const RECEIPTS_FEATURE = "receipts";
/**
 * Takes typing notices (`chat.typing`, direct chats and groups): ephemeral
 * session frames, never stored, rate-limited both ways. Listed by every
 * node that runs chats. Since protocol 1 (the receipts step).
 */
export const TYPING_FEATURE = "typing";

/**
 * Serves the chunks of files in chats shared with the peer (`files.list`,
 * `files.get`; node/files). Every node that runs chats lists it (not an
 * anchor). Since protocol 1 (the files step): an older peer does not list it
 * and is never asked for chunks.
 */
export const FILES_FEATURE = "files1";

/**
 * Takes read receipts in groups (`chat.read` with a group id both are in):
 * "I have read your entries in this group up to your #seq", on the session
 * only, like a direct chat's; subject to the same receipts settings. Listed
 * by every node that runs chats; an older peer is sent none. Since protocol 1
 * (the group receipts step).
 */
export const GROUP_RECEIPTS_FEATURE = "greceipts";

/**
 * Links in two phases (`device.confirm`, node/linking/link_decision.ts): the
 * first answer reserves the code for the new key, which writes its folder
 * and confirms; only then is the device recorded, so a kill at any moment
 * leaves no device linked on one side only. Listed with `devlink` by the
 * linking node and by the new device (`roj init --join`); with a side that
 * does not list it, linking is one phase as before. Renewals too: a device
 * fetches its renewed certificate (`device.renew`, on a `devlink` session),
 * and a person's node hands its contacts its devices' renewed certificates
 * (`device.cert`). Since protocol 1.
 */
export const DEVLINK_CONFIRM_FEATURE = "devlink2";

/**
 * Deletes 1:1 mail boxes once their recipient took them (`mbox.ack`, and the
 * `k` of `mbox.put`: the hash of a token only the two people can make,
 * mailbox/direct_ack.ts). Listed by anchors and by nodes that carry; a sender
 * files `k` and a recipient acks only where it is listed, so an older holder
 * keeps boxes until they expire, as before. Since protocol 1 (issue 14).
 */
export const DIRECT_ACK_FEATURE = "dmail-ack";

/**
 * Syncs chats with the person's other devices (node/device_sync): a session
 * whose SSH user name is `dev-<our own person's key in hex>`, from the person
 * key itself or a device key whose hello `cert` chains to it (valid now, not
 * revoked), serves `sync.heads`, `sync.push`, `sync.own` for every direct
 * chat, `device.revoke` and `devsync.addresses`. Every person's node lists it
 * (not an anchor). Since protocol 1 (the device sync step).
 */
export const DEVSYNC_FEATURE = "devsync1";

/**
 * Takes and sends bulk sync pages in binary (protocol/bulk.ts): `sync.push`
 * as a binary request, `mbox.get` answered in a binary frame, entries and
 * boxes as their stored bytes. A node sends either only to a peer that lists
 * it; an older peer gets JSON. Every node lists it. Since protocol 1 (the
 * binary sync step).
 */
export const BULK_FEATURE = "bulk1";

/**
 * Files in groups (node/files/group_files.ts): a person's node serves the
 * sealed chunks of group files to members of the group and to its anchors
 * (`files.list`, `files.get`); an anchor takes `gfile.offer` and serves the
 * sealed chunks it holds to whoever names their root. Listed by every node.
 * An older member does not list it: it is never asked, and shows a group
 * file entry as one it cannot read.
 */
export const GROUP_FILES_FEATURE = "gfiles1";

/**
 * Keeps contacts in step between a person's own devices (node/device_sync
 * contact_sync.ts): on a sibling session (see devsync1), `devsync.contacts`
 * carries contact changes (added, renamed, blocked, removed), merged last
 * writer wins per contact. Listed by every person's node (not an anchor). A
 * sibling that does not list it keeps its own contacts and syncs chats as
 * before.
 */
export const DEVSYNC_CONTACTS_FEATURE = "devcontacts1";

/**
 * Keeps each chat's settings (muted, pinned, archived) and read state in step
 * between a person's own devices (node/device_sync/prefs_sync.ts): on a
 * sibling session (see devsync1), `devsync.prefs` carries per-chat records,
 * settings last writer wins, read marks the highest. Listed by every person's
 * node (not an anchor). A sibling that does not list it is never sent one and
 * keeps its own settings and read state.
 */
export const DEVSYNC_PREFS_FEATURE = "devprefs1";

/**
 * Keeps the invites a person issued in step between the person's own devices
 * (node/device_sync/invite_sync.ts): on a sibling session (see devsync1),
 * `devsync.invites` carries each issued invite's nonce, end and uses left,
 * merged as the fewer uses and the earlier end, so an invite issued on one
 * device is redeemed on any, at most as often as it allows once they met.
 * Listed by every person's node (not an anchor). A sibling that does not list
 * it redeems only the invites it issued itself, as before.
 */
export const DEVSYNC_INVITES_FEATURE = "devinvites1";

/**
 * Keeps groups in step between a person's own devices (node/device_sync
 * group_sync.ts): on a sibling session (see devsync1), `devsync.groups`
 * hands the other device each group the person is in, with the epoch keys
 * opened here (sealed to the person's key, which a device does not hold),
 * and the group chats sync there like direct ones; a device asks the one
 * that holds the person key to make membership changes (`devsync.gop`).
 * Listed by every person's node (not an anchor). A sibling that does not
 * list it is handed no group and syncs chats and contacts as before.
 */
export const DEVSYNC_GROUPS_FEATURE = "devgroups1";

/**
 * Files mail for the person's other devices at the person's anchors, and
 * fetches theirs (node/mailbox/own_mail.ts): what this device wrote in its
 * direct chats, sealed under weekly tags from the X25519 secret of the two
 * device keys, through the `mbox.*` methods anchors serve for 1:1 mail
 * (`dmail`), so two devices never online together converge. Listed by every
 * person's node that syncs devices (with devsync1). The anchor needs nothing
 * new; a device files nothing for a sibling whose hello, when they last met,
 * did not list it (an older device, which would never fetch it).
 */
export const OWN_MAIL_FEATURE = "ownmail1";

/**
 * The person's agreement key (node/device_sync/person_agreement.ts): an
 * X25519 key of the person apart from the signing key, held by each of the
 * person's devices. The hello's `pagree` publishes it (the person key's node
 * and each device that holds it); a contact seals group keys to the person's
 * `pagree` it heard on a session of that person. On a sibling session the
 * person key's node hands each device the secret (`devsync.agree`, sealed to
 * the device key); a new one (after a linking or a removal) is told to the
 * contacts in a session at once (`agree.person`). Listed by every person's
 * node (not an anchor). A contact that does not list it ignores `pagree` and
 * seals to the person key as before (which a device cannot open: its groups
 * then come handed, devgroups1).
 */
export const DEVSYNC_AGREE_FEATURE = "devagree1";

/**
 * Says which device issued each invite (node/device_sync/invite_sync.ts): a
 * `devsync.invites` record carries `by`, the issuing device's key, so that
 * once the person revokes that device every one of her devices refuses and
 * withdraws its invites. Listed by every person's node (not an anchor) after
 * devinvites1. A sibling that does not list it is sent no `by` (its records
 * still merge), and withdraws only the invites whose issuer it learnt.
 */
export const DEVSYNC_INVITES_BY_FEATURE = "devinvites2";

/**
 * Makes a person's devices known to each other (node/device_sync/
 * device_list.ts): on a sibling session (see devsync1), `devsync.devices`
 * hands the other device the person's device certificates held here, valid
 * and not revoked, each with where that device listens, so two devices
 * linked to one laptop meet, and `roj devices` on a device lists them.
 * Listed by every person's node (not an anchor) after devinvites2. A sibling
 * that does not list it is sent none, and knows the devices it met as before.
 */
export const DEVSYNC_DEVICES_FEATURE = "devlist1";

/**
 * Own mail (see ownmail1) carries chat settings and read marks (devprefs1's
 * records) and issued invites (devinvites2's) too, each in boxes of their
 * own (node/mailbox/own_mail_records.ts), sealed as the other own-mail boxes
 * are. Listed by every person's node (not an anchor) after devlist1. A
 * device files those boxes only for a sibling whose hello, when they last
 * met, listed it; an older one reads its own mail as before.
 */
export const OWN_MAIL_RECORDS_FEATURE = "ownmail2";

/**
 * Takes v2 cards (introductions/card_v2.ts, "rojcard2:"): a card that
 * carries the certificate of the introducer's device that signed it and of
 * the introduced person's devices, so its receiver needs to have met none of
 * them. `intro.offer` and `intro.request` then take cards of up to
 * MAX_CARD_V2_BYTES. Listed by every node. A peer that does not list it is
 * handed v1 cards, as before (one signed on a device is taken only by a peer
 * that met that device).
 */
export const INTRO2_FEATURE = "intro2";

/** A feature string Roj defines. */
export type Feature =
  | typeof SYNC_FEATURE
  | typeof AGREE_FEATURE
  | typeof ANCHOR_FEATURE
  | typeof MAILBOX_FEATURE
  | typeof DIRECT_MAIL_FEATURE
  | typeof PUNCH_FEATURE
  | typeof RELAY_FEATURE
  | typeof CARRY_FEATURE
  | typeof INTRO_FEATURE
  | typeof OWN_CHAIN_FEATURE
  | typeof RECEIPTS_FEATURE
  | typeof TYPING_FEATURE
  | typeof DEVLINK_FEATURE
  | typeof DEVICES_FEATURE
  | typeof FILES_FEATURE
  | typeof GROUP_RECEIPTS_FEATURE
  | typeof DEVLINK_CONFIRM_FEATURE
  | typeof DIRECT_ACK_FEATURE
  | typeof DEVSYNC_FEATURE
  | typeof BULK_FEATURE
  | typeof GROUP_FILES_FEATURE
  | typeof DEVSYNC_CONTACTS_FEATURE
  | typeof DEVSYNC_PREFS_FEATURE
  | typeof DEVSYNC_INVITES_FEATURE
  | typeof DEVSYNC_GROUPS_FEATURE
  | typeof OWN_MAIL_FEATURE
  | typeof DEVSYNC_AGREE_FEATURE
  | typeof DEVSYNC_INVITES_BY_FEATURE
  | typeof DEVSYNC_DEVICES_FEATURE
  | typeof OWN_MAIL_RECORDS_FEATURE
  | typeof INTRO2_FEATURE;

/** Every feature Roj defines, in the order a hello lists them. */
export const ALL_FEATURES: readonly Feature[] = [
  SYNC_FEATURE,
  AGREE_FEATURE,
  ANCHOR_FEATURE,
  MAILBOX_FEATURE,
  DIRECT_MAIL_FEATURE,
  PUNCH_FEATURE,
  RELAY_FEATURE,
  CARRY_FEATURE,
  INTRO_FEATURE,
  OWN_CHAIN_FEATURE,
  RECEIPTS_FEATURE,
  TYPING_FEATURE,
  DEVLINK_FEATURE,
  DEVICES_FEATURE,
  FILES_FEATURE,
  GROUP_RECEIPTS_FEATURE,
  DEVLINK_CONFIRM_FEATURE,
  DIRECT_ACK_FEATURE,
  DEVSYNC_FEATURE,
  BULK_FEATURE,
  GROUP_FILES_FEATURE,
  DEVSYNC_CONTACTS_FEATURE,
  DEVSYNC_PREFS_FEATURE,
  DEVSYNC_INVITES_FEATURE,
  DEVSYNC_GROUPS_FEATURE,
  OWN_MAIL_FEATURE,
  DEVSYNC_AGREE_FEATURE,
  DEVSYNC_INVITES_BY_FEATURE,
  DEVSYNC_DEVICES_FEATURE,
  OWN_MAIL_RECORDS_FEATURE,
  INTRO2_FEATURE,
];

/** Features every node lists, whatever its options. */
export const FEATURES = [SYNC_FEATURE, AGREE_FEATURE] as const;

/** What a node serves, as far as its hello is concerned. */
export interface FeatureRoles {
  /** A passive anchor: lists `anchor`, `mailbox` and `dmail`; any other node, `receipts` and `typing`. */
  readonly passive: boolean;
  /** Serves QUIC and punching: lists `punch`. */
  readonly punch: boolean;
  /** Relays for contacts: lists `relay`. */
  readonly relay: boolean;
  /** Carries 1:1 mail between contacts: lists `carry`. @default false */
  readonly carry?: boolean;
  /** Links new devices of the person and accepts contacts' devices: lists `devlink`, `devices`. @default false */
  readonly devlink?: boolean;
  /** Serves file chunks: lists `files1`. @default !passive */
  readonly files?: boolean;
  /** Syncs with the person's own devices: lists `devsync1`, `devcontacts1`, `ownmail1`. @default false */
  readonly devsync?: boolean;
  /** Takes and sends bulk sync pages in binary: lists `bulk1`. @default true */
  readonly bulk?: boolean;
}

/** The features a node with these roles lists in its hello, in wire order. */
export function helloFeatures(roles: FeatureRoles): Feature[] {
  return [
    ...FEATURES,
    ...(roles.passive ? [ANCHOR_FEATURE, MAILBOX_FEATURE, DIRECT_MAIL_FEATURE] as const : []),
    ...(roles.punch ? [PUNCH_FEATURE] as const : []),
    ...(roles.relay ? [RELAY_FEATURE] as const : []),
    ...(roles.carry ? [CARRY_FEATURE] as const : []),
    INTRO_FEATURE,
    ...(roles.passive ? [] : [OWN_CHAIN_FEATURE] as const),
    ...(roles.passive ? [] : [RECEIPTS_FEATURE, TYPING_FEATURE] as const),
    ...(roles.devlink ? [DEVLINK_FEATURE, DEVICES_FEATURE] as const : []),
    ...((roles.files ?? !roles.passive) ? [FILES_FEATURE] as const : []),
    ...(roles.passive ? [] : [GROUP_RECEIPTS_FEATURE] as const),
    ...(roles.devlink ? [DEVLINK_CONFIRM_FEATURE] as const : []),
    ...(roles.passive || roles.carry ? [DIRECT_ACK_FEATURE] as const : []),
    ...(roles.devsync ? [DEVSYNC_FEATURE] as const : []),
    ...((roles.bulk ?? true) ? [BULK_FEATURE] as const : []),
    GROUP_FILES_FEATURE,
    ...(roles.devsync
      ? [
        DEVSYNC_CONTACTS_FEATURE,
        DEVSYNC_PREFS_FEATURE,
        DEVSYNC_INVITES_FEATURE,
        DEVSYNC_GROUPS_FEATURE,
        OWN_MAIL_FEATURE,
        DEVSYNC_AGREE_FEATURE,
        DEVSYNC_INVITES_BY_FEATURE,
        DEVSYNC_DEVICES_FEATURE,
        OWN_MAIL_RECORDS_FEATURE,
      ] as const
      : []),
    INTRO2_FEATURE,
  ];
}

/** Whether a peer's hello (undefined before it came) lists `feature`. */
export function peerHas(
  hello: { readonly features: readonly string[] } | undefined,
  feature: Feature,
): boolean {
  return hello?.features.includes(feature) ?? false;
}
