export * from "./api.ts";
export type * from "./nat_events.ts";
export * from "./intro_api.ts";
