export {
  type Evidence,
  inboundEvidence,
  type NoEvidence,
  type Observation,
  outsidePeer,
} from "./evidence.ts";
export {
  classifyMapping,
  type MappingObservation,
  type NatMapping,
  natView,
} from "./nat_mapping.ts";
export {
  inCidr,
  ipBytes,
  isLoopback,
  isOwnAddress,
  isPrivateAddress,
  type LocalNetwork,
  localNetworks,
  onOwnLink,
} from "./networks.ts";
