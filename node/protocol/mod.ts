/**
 * The Roj protocol between nodes: frames, methods, features and the
 * request/response session. The wire format and the version history are drawn
 * at the top of messages.ts. The only import surface of `node/protocol/`.
 *
 * @module
 */
export { answerBuffer, encodeFrame, FrameDecoder } from "./codec.ts";
export {
  type BulkForms,
  type BulkMethod,
  decodeMboxPage,
  decodePushPage,
  encodeMboxPage,
  encodePushPage,
  MAX_BOX_BYTES,
  MAX_BULK_SIG,
  MAX_BULK_SIGNED,
  type MboxPage,
  type PageEntry,
  type PushPage,
} from "./bulk.ts";
export { type Frame, type Hello, MAX_FRAME, PROTOCOL_VERSION } from "./messages.ts";
export {
  ALL_FEATURES,
  ANCHOR_FEATURE,
  BULK_FEATURE,
  CARRY_FEATURE,
  DEVICES_FEATURE,
  DEVLINK_CONFIRM_FEATURE,
  DEVLINK_FEATURE,
  DEVSYNC_AGREE_FEATURE,
  DEVSYNC_CONTACTS_FEATURE,
  DEVSYNC_DEVICES_FEATURE,
  DEVSYNC_FEATURE,
  DEVSYNC_GROUPS_FEATURE,
  DEVSYNC_INVITES_BY_FEATURE,
  DEVSYNC_INVITES_FEATURE,
  DEVSYNC_PREFS_FEATURE,
  DIRECT_MAIL_FEATURE,
  type Feature,
  type FeatureRoles,
  FEATURES,
  FILES_FEATURE,
  GROUP_FILES_FEATURE,
  GROUP_RECEIPTS_FEATURE,
  helloFeatures,
  INTRO2_FEATURE,
  INTRO_FEATURE,
  MAILBOX_FEATURE,
  OWN_CHAIN_FEATURE,
  OWN_MAIL_FEATURE,
  OWN_MAIL_RECORDS_FEATURE,
  peerHas,
  PUNCH_FEATURE,
  RECEIPTS_FEATURE,
  RELAY_FEATURE,
  SYNC_FEATURE,
  TYPING_FEATURE,
} from "./features.ts";
export {
  check,
  decodeB64,
  encodeB64,
  HeadItem,
  MAX_CHUNK_WIRE,
  MAX_LINK_CONTACTS,
  MAX_LIST_HASHES,
  MAX_PUSH_ENTRIES,
  type MethodName,
  type ParamsOf,
  type ResultOf,
  WireEntry,
} from "./methods.ts";
export {
  type Handler,
  HARD_BUFFER_BYTES,
  type RpcOptions,
  RpcSession,
  SOFT_BUFFER_BYTES,
} from "./rpc.ts";
export { DIRECT_ACK_FEATURE } from "./features.ts";
