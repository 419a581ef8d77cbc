/**
 * Linking a person's devices: link codes and certificates on the node that
 * holds the person key (link_service.ts), and the new device's side
 * (join.ts). The only import surface of `node/linking/`.
 *
 * @module
 */
export {
  type DeviceIdentity,
  deviceIdentity,
  LINK_USER,
  LinkService,
  type LinkServiceDeps,
} from "./link_service.ts";
export { type JoinOptions, joinPerson, type JoinResult, type JoinStep } from "./join.ts";
export { linkProof } from "./link_proof.ts";
export { readLentKey } from "./lent_key.ts";
export { type ExportOptions, exportPersonKey, type KeyExport } from "./person_key.ts";
export {
  goOffline,
  type OfflineOptions,
  type OfflineResult,
  type OfflineStep,
} from "./go_offline.ts";
export {
  type CertifiedSigner,
  certifiedSigner,
  isCertifiedSigner,
  withLiveCertificate,
} from "./certified_signer.ts";
export { DeviceSessions, type DeviceSessionsDeps, deviceUser } from "./device_sessions.ts";
export {
  decideLink,
  KEEP_ENDED_MS,
  LINK_REFUSALS,
  type LinkCodeRecord,
  type LinkDecision,
  type LinkRefusal,
  MAX_LINK_CODES,
} from "./link_decision.ts";
