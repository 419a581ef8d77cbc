export { type Evidence, inboundEvidence, type Observation, outsidePeer } from "./evidence.ts";
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
