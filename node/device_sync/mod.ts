/**
 * A person's own devices in step with each other (feature devsync1): the
 * book of the person's devices this node knows (own_devices.ts), and the
 * sessions with the other devices that sync every direct chat
 * (sibling_sync.ts), and with them contacts (contact_sync.ts) and each
 * chat's settings and read mark (prefs_sync.ts). The only import surface of
 * `node/device_sync/`.
 *
 * @module
 */
export {
  admitsEntry,
  type ContactDevices,
  MAX_LEARNT_PER_PUSH,
  OwnDevices,
  withOwnDevices,
} from "./own_devices.ts";
export {
  MAX_SIBLING_ADDRESSES,
  type SiblingMail,
  type SiblingParts,
  SiblingSync,
  type SiblingSyncDeps,
} from "./sibling_sync.ts";
export {
  type ContactDeviceBooks,
  DeviceSync,
  type DeviceSyncDeps,
  type DeviceSyncParts,
} from "./device_sync.ts";
export { DeviceDialler, type DeviceDiallerDeps } from "./device_dialler.ts";
export { siblingViews } from "./sibling_rows.ts";
export {
  MAX_PREFS_CHANGES,
  type PrefsBook,
  PrefsSync,
  type PrefsSyncDeps,
  type ReadState,
} from "./prefs_sync.ts";
export { mergePrefs, type PrefsRecord, stampPrefs } from "./prefs_merge.ts";
export {
  type GroupOp,
  GroupSync,
  type GroupSyncDeps,
  MAX_HANDED_EPOCHS,
  MAX_HANDED_GROUPS,
} from "./group_sync.ts";
export { memberDevices } from "./member_devices.ts";
export { AgreeSync, type AgreeSyncDeps } from "./agree_sync.ts";
export { MAX_KEPT as MAX_AGREEMENT_KEYS, PersonAgreement } from "./person_agreement.ts";
export { PersonAgreeKeys } from "./person_agree_keys.ts";
