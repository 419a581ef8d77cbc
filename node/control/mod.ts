/**
 * The control socket: how the CLI talks to a running node. The node calls
 * `serveControl(<data>/roj.sock, api)`; commands call `connectControl(dataDir)`.
 * Wire format: see protocol.ts.
 */
export {
  type ControlServer,
  type ControlServerOptions,
  eventChat,
  serveControl,
} from "./server.ts";
export { connectControl, ControlClient, noNodeError } from "./client.ts";
export {
  type CallMethod,
  CONTROL_PROTOCOL_VERSION,
  MAX_REQUEST_LINE,
  SOCKET_NAME,
} from "./protocol.ts";
export { controlSocketPath } from "./socket_path.ts";
