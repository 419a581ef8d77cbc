/**
 * Port mapping on the home router (UPnP-IGD, else NAT-PMP): asks the LAN
 * gateway to forward the node's listen port (TCP, and UDP for QUIC on the same
 * port) so that peers can dial in directly instead of through a relay.
 *
 *   const map = startPortMap({ port: 7022, host: "0.0.0.0", udp: true, log, onChange });
 *   map.external;      // "203.0.113.5:7022" once the router said yes
 *   map.status;        // method, gateway, lease, last renewal, or why there is none
 *   await map.close(); // removes every mapping it made
 *
 * Everything runs in the background with short timeouts: a network without a
 * mapping-capable router costs one log line, and the node falls back to what it
 * has (relays, punching). Leases are renewed at half their length.
 */
export {
  behindAnotherNat,
  type PortMap,
  type PortMapMiss,
  type PortMapNote,
  portMapOff,
  type PortMapOptions,
  type PortMapping,
  startPortMap,
} from "./port_map.ts";
export {
  defaultGateway,
  lanAddressFor,
  parseIpRoute,
  parseProcNetRoute,
} from "./gateway_address.ts";
