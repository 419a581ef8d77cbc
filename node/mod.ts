/**
 * The node's import surface for main.ts, the CLI and routes/ (the web admin):
 * nothing outside node/ imports anything else from it (tests/architecture_test.ts).
 */
export { isRojError, RojError, type RojErrorCode } from "./errors.ts";
export {
  checkName,
  initProfile,
  type ModeChange,
  resolveDataDir,
  tightenedNotice,
} from "./home/mod.ts";
export type { AskPassphrase } from "./home/mod.ts";
export { fingerprint, fingerprintLine, publicKeyLine } from "./identity/mod.ts";
export { type Entry, type EntryJson, entryToJson } from "./log/mod.ts";
export { type ChatRef, type NodeOptions, RojNode, VERSION } from "./node.ts";
export * from "./api/mod.ts";
export {
  type CallMethod,
  connectControl,
  ControlClient,
  type ControlServer,
  controlSocketPath,
  eventChat,
  noNodeError,
  serveControl,
} from "./control/mod.ts";
export { type Endpoint, formatEndpoint, parseEndpoint } from "./transport/mod.ts";
export { type IpKind, ipKindOf, parseIp } from "./ip/mod.ts";
export { type Invite, parseInvite } from "./contacts/mod.ts";
export {
  exportPersonKey,
  goOffline,
  joinPerson,
  type JoinResult,
  type JoinStep,
  type KeyExport,
  type OfflineResult,
  readLentKey,
} from "./linking/mod.ts";
export { escapeControl, escapeLines, jsonLine } from "./text/mod.ts";
export {
  type BackupSummary,
  restoreBackup,
  type RestoreSummary,
  writeBackup,
} from "./backup/mod.ts";
