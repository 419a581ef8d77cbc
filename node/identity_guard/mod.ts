/**
 * The identity guard: a node's key writing on another node too (a copied data
 * folder, an adopted key run twice) is found from what contacts hold of its
 * own chain, told to the person, and resolved without losing a message.
 */
export {
  type ChatConflict,
  EMPTY_GUARD,
  type GuardAction,
  type GuardEvent,
  type GuardState,
  type Role,
  stepGuard,
  writeBlock,
} from "./guard.ts";
export { IdentityGuard, type IdentityGuardDeps } from "./identity_guard.ts";
export { TWIN_WINDOW_MS, TwinSessions } from "./twin_sessions.ts";
