/**
 * The local API's invite methods beyond issuing and accepting (node/invites):
 * their params and results. Spread into api.ts's tables.
 */
import { z } from "zod";

export const inviteParams = {
  /**
   * Withdraw an invite this person issued (on this device or another of
   * theirs): it can no longer be used, here nor, once they meet, on the
   * person's other devices (devinvites1).
   */
  "invite.withdraw": z.object({ invite: z.string().min(1).max(4096) }).strict(),
} as const;

export interface InviteResults {
  /** False when it was used up, expired or withdrawn already. */
  "invite.withdraw": { withdrawn: boolean };
}
