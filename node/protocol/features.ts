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
 * assert.deepEqual(features, ["sync1", "relay", "files1"]);
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
 * Serves the chunks of files in chats shared with the peer (`files.list`,
 * `files.get`; node/files). Every node that runs chats lists it (not an
 * anchor). Since protocol 1 (the files step): an older peer does not list it
 * and is never asked for chunks.
 */
export const FILES_FEATURE = "files1";

/** A feature string Roj defines. */
export type Feature =
  | typeof SYNC_FEATURE
  | typeof ANCHOR_FEATURE
  | typeof MAILBOX_FEATURE
  | typeof PUNCH_FEATURE
  | typeof RELAY_FEATURE
  | typeof FILES_FEATURE;

/** Every feature Roj defines, in the order a hello lists them. */
export const ALL_FEATURES: readonly Feature[] = [
  SYNC_FEATURE,
  ANCHOR_FEATURE,
  MAILBOX_FEATURE,
  PUNCH_FEATURE,
  RELAY_FEATURE,
  FILES_FEATURE,
];

/** Features every node lists, whatever its options. */
export const FEATURES = [SYNC_FEATURE] as const;

/** What a node serves, as far as its hello is concerned. */
export interface FeatureRoles {
  /** A passive anchor: lists `anchor` and `mailbox`. */
  readonly passive: boolean;
  /** Serves QUIC and punching: lists `punch`. */
  readonly punch: boolean;
  /** Relays for contacts: lists `relay`. */
  readonly relay: boolean;
  /** Serves file chunks: lists `files1`. @default !passive */
  readonly files?: boolean;
}

/** The features a node with these roles lists in its hello, in wire order. */
export function helloFeatures(roles: FeatureRoles): Feature[] {
  return [
    ...FEATURES,
    ...(roles.passive ? [ANCHOR_FEATURE, MAILBOX_FEATURE] as const : []),
    ...(roles.punch ? [PUNCH_FEATURE] as const : []),
    ...(roles.relay ? [RELAY_FEATURE] as const : []),
    ...((roles.files ?? !roles.passive) ? [FILES_FEATURE] as const : []),
  ];
}

/** Whether a peer's hello (undefined before it came) lists `feature`. */
export function peerHas(
  hello: { readonly features: readonly string[] } | undefined,
  feature: Feature,
): boolean {
  return hello?.features.includes(feature) ?? false;
}
