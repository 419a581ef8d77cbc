export { bytesEqual, WireReader, WireWriter } from "./ssh_wire.ts";
