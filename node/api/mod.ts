export * from "./api.ts";
export type * from "./nat_events.ts";
export type * from "./status_parts.ts";
export type * from "./verify_view.ts";
