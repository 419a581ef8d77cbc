export { backoffDelay, type BackoffOptions } from "./backoff.ts";
export { type PeerSession, PeerSet } from "./peer_set.ts";
export {
  dialHappyEyeballs,
  type DialRace,
  type HappyEyeballsOptions,
  IPV6_HEAD_START_MS,
} from "./happy_eyeballs.ts";
