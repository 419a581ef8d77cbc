export {
  DIAL_BACK_TIMEOUT_MS,
  Relay,
  type RelayHost,
  type RelayPeerSession,
  type RelayTap,
  type RelayTiming,
} from "./relay.ts";
export {
  type Bucket,
  decideOpen,
  type Decision,
  type OpenRequest,
  type RelayLimits,
  type RelayOptions,
  resolveRelayLimits,
  takeTokens,
} from "./relay_policy.ts";
