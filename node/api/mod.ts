export * from "./api.ts";
export type * from "./nat_events.ts";
export type * from "./identity_api.ts";
