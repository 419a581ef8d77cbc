export { PUNCH_FEATURE, Puncher, type PuncherOptions } from "./punch.ts";
export type { PunchHost, PunchResult, PunchSession } from "./punch_host.ts";
