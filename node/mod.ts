/** The node's import surface for main.ts, the CLI and routes/. */
export { isRojError, RojError, type RojErrorCode } from "./errors.ts";
export { checkName, initProfile, resolveDataDir } from "./home/mod.ts";
export type { AskPassphrase } from "./home/mod.ts";
export { fingerprint, fingerprintLine, publicKeyLine } from "./identity/mod.ts";
export { type Entry, type EntryJson, entryToJson } from "./log/mod.ts";
export { type ChatRef, type NodeOptions, RojNode } from "./node.ts";
