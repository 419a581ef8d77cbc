/** The addresses this node publishes, and noticing when they change. The only import surface of `node/addresses/`. */
export { OwnAddresses, type OwnAddressesDeps } from "./own_addresses.ts";
