export * from "./api.ts";
export type * from "./nat_events.ts";
export type * from "./direct_mail_events.ts";
