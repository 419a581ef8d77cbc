/**
 * What the API says of a key kept in ssh-agent (node/identity/agent_signer.ts):
 * in `status`, and as the NodeEvent told when the agent goes or comes back.
 * Kept here so that api.ts stays short.
 */

/** Whether the ssh-agent signs for this node now, and if not, why. */
export interface AgentView {
  /** The agent's socket ($SSH_AUTH_SOCK). */
  readonly socket: string;
  /** False: nothing is signed, writes are refused with agent_unavailable, reads go on. */
  readonly available: boolean;
  readonly reason?: string;
}

/** The agent went or came back; once per change. */
export interface AgentEvent extends AgentView {
  readonly type: "agent";
}
