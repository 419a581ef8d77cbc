export * from "./api.ts";
export type * from "./nat_events.ts";
export type * from "./files_api.ts";
