export { bytesEqual, toHex, WireReader, WireWriter } from "./ssh_wire.ts";
export { fromHex } from "./ssh_wire.ts";
