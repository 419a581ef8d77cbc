/** The local API's handlers and status, served by node.ts. The only import surface of `node/handlers/`. */
export {
  type CallMethod,
  createHandlers,
  dispatch,
  type HandlerDeps,
  type Handlers,
} from "./handlers.ts";
export { type StatusParts, statusView } from "./status.ts";
export { type ForgetBy, forgetContact, type ForgetDeps, type ForgetHow } from "./forget.ts";
