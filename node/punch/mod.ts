export {
  PUNCH_FEATURE,
  Puncher,
  type PuncherOptions,
  type PunchHost,
  type PunchResult,
  type PunchSession,
} from "./punch.ts";
