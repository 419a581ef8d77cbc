/**
 * The local API's methods for a group this node may be out of
 * (node/handlers/group_state.ts): whether it is still a member and, if not,
 * how it left; and deleting such a group from the list. Spread into api.ts's tables.
 */
import { z } from "zod";

const chatName = z.string().min(1).max(64);

export const groupStateParams = {
  /** Whether this node is still a member of a group, and if not, how it left. */
  "group.state": z.object({ group: chatName }).strict(),
  /** Deletes a group this node is out of from the list (refused while a member: leave first). */
  "group.forget": z.object({ group: chatName }).strict(),
} as const;

/** A group as seen by a node that may be out of it. */
export interface GroupStateView {
  readonly name: string;
  readonly id: string;
  /** A current member. */
  readonly member: boolean;
  /** How this node left, when it is out: removed by an admin, or left itself. */
  readonly departed: "removed" | "left" | null;
  /** Who removed this node (as shown here); null unless removed. */
  readonly by: string | null;
  /** When the departure was written (ms since the epoch, as its author's clock said). */
  readonly at: number | null;
  /** Deleted from the list (`group.forget`). */
  readonly hidden: boolean;
}

export interface GroupStateResults {
  "group.state": GroupStateView;
  "group.forget": { forgot: string };
}
