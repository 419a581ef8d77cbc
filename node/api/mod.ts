export * from "./api.ts";
export type * from "./nat_events.ts";
export type { AgentEvent, AgentView } from "./agent_view.ts";
export type * from "./status_parts.ts";
export type * from "./verify_view.ts";
export * from "./intro_api.ts";
export * from "./devices_api.ts";
export type * from "./direct_mail_events.ts";
