/** The local API's `identity.*` methods (node/identity_guard). */
import type { IdentityResolveView } from "../api/mod.ts";

/** What the handlers need of the identity guard. */
export interface IdentityResolver {
  resolve(): Promise<IdentityResolveView>;
}

export function identityHandlers(guard: IdentityResolver) {
  return {
    "identity.resolve": () => guard.resolve(),
  } as const;
}
