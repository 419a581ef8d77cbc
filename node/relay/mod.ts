export { DIAL_BACK_TIMEOUT_MS, Relay } from "./relay.ts";
export type { RelayHost, RelayNote, RelayPeerSession, RelayTiming } from "./relay_host.ts";
export type { RelayTap } from "./splicer.ts";
export {
  type Bucket,
  decideOffer,
  decideOpen,
  type Decision,
  type OfferRequest,
  type OpenRequest,
  type RelayLimits,
  type RelayOptions,
  resolveRelayLimits,
  takeTokens,
} from "./relay_policy.ts";
