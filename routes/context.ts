/** What every page handler needs: the node's API and the admin's log. */
import type { NodeApi } from "../node/mod.ts";

export interface AdminContext {
  readonly api: NodeApi;
  readonly log: (line: string) => void;
}

/** A chat or contact name as a path segment. */
export const seg = (name: string) => encodeURIComponent(name);
