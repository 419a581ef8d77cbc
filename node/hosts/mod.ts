/**
 * What each subsystem (discovery, relay, punch, LAN) sees of the node: one
 * adapter per subsystem host interface. The only import surface of `node/hosts/`.
 */
export { discoveryHost } from "./discovery_host.ts";
export { relayHost } from "./relay_host.ts";
export { punchHost } from "./punch_host.ts";
export { lanHost } from "./lan_host.ts";
export { nameOf, type NodeParts } from "./parts.ts";
