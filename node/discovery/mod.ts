export {
  type AddressRecord,
  MAX_RECORD_ADDRESSES,
  MAX_RECORD_RELAYS,
  openRecord,
  type SignedRecord,
  signRecord,
} from "./address_record.ts";
export {
  Discovery,
  type DiscoveryHost,
  type DiscoveryOptions,
  type KnownPeer,
  type LiveSession,
  type PeerState,
} from "./discovery.ts";
export { MAX_SEALED, type Pair, pairwise, TAG_BYTES } from "./pairwise.ts";
export { SEALED_QUOTA, SealedStore } from "./sealed_store.ts";
