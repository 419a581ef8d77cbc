export { encodeFrame, FrameDecoder } from "./codec.ts";
export { FEATURES, type Frame, type Hello, MAX_FRAME, PROTOCOL_VERSION } from "./messages.ts";
export {
  check,
  decodeB64,
  encodeB64,
  HeadItem,
  MAX_PUSH_ENTRIES,
  type MethodName,
  type ParamsOf,
  type ResultOf,
  WireEntry,
} from "./methods.ts";
export { type Handler, type RpcOptions, RpcSession } from "./rpc.ts";
