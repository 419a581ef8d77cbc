/** Live sessions with contacts and the one path by which they come to be. The only import surface of `node/sessions/`. */
export {
  type Arrival,
  type DialPlan,
  type DownHook,
  type LiveSession,
  type PersonAgreeHooks,
  type ServeHook,
  SessionManager,
  type SessionManagerDeps,
  type UpHook,
} from "./session_manager.ts";
