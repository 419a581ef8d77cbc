export { PUNCH_FEATURE, Puncher, type PuncherOptions } from "./punch.ts";
export type {
  PunchAttemptCode,
  PunchFailure,
  PunchHost,
  PunchNote,
  PunchResult,
  PunchSession,
} from "./punch_host.ts";
