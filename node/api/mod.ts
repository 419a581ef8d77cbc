export * from "./api.ts";
export type * from "./nat_events.ts";
export * from "./files_api.ts";
