export { backoffDelay, type BackoffOptions } from "./backoff.ts";
export { type PeerSession, PeerSet } from "./peer_set.ts";
