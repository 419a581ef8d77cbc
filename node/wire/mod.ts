export { bytesEqual, toHex, WireReader, WireWriter } from "./ssh_wire.ts";
