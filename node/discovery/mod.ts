export {
  type AddressRecord,
  MAX_RECORD_ADDRESSES,
  MAX_RECORD_RELAYS,
  openRecord,
  type SignedRecord,
  signRecord,
} from "./address_record.ts";
export { Discovery } from "./discovery.ts";
export type {
  DiscoveryHost,
  DiscoveryNote,
  DiscoveryOptions,
  KnownPeer,
  LiveSession,
  PeerState,
  RecordDropReason,
  RecordSource,
} from "./discovery_host.ts";
export {
  anchorsFirst,
  initialCascade,
  retryDelay,
  stepCascade,
  unreachedOf,
  yieldsTo,
} from "./cascade.ts";
export type {
  Ask,
  AskPurpose,
  CascadeAction,
  CascadeConfig,
  CascadeEvent,
  CascadeNote,
  CascadePeer,
  CascadeRecord,
  CascadeSession,
  CascadeState,
  CascadeStep,
  CascadeView,
  Dial,
  PeerId,
  Run,
  TimerName,
} from "./cascade_state.ts";
export { RecordSeals, type SealedItem } from "./record_seals.ts";
export { MAX_SEALED, type Pair, pairwise, TAG_BYTES } from "./pairwise.ts";
export { SEALED_QUOTA, SealedStore } from "./sealed_store.ts";
