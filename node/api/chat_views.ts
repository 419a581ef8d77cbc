/** Views of forks, groups and invites, as the API returns them (api.ts holds the rest). */

/**
 * A fork: two different entries signed by one author for one place (`seq`)
 * of their chain in a chat. The first is kept; the other is evidence, and no
 * more of that author's twins in the chat are taken. Either their key is
 * used on two devices (for `mine`, this identity runs elsewhere too) or
 * their node misbehaves.
 */
export interface ForkView {
  /** The chat's name on this node. */
  readonly chat: string;
  /** The author's name on this node (this node's own name for `mine`). */
  readonly author: string;
  readonly authorFingerprint: string;
  readonly mine: boolean;
  readonly seq: number;
  /** Hash (hex) of the entry kept: the first seen. */
  readonly kept: string;
  /** Hash (hex) of the other entry. */
  readonly twin: string;
  /** ms since the epoch when this node first saw the other entry. */
  readonly firstSeen: number;
}

/** A member of a group as this node shows them. */
export interface MemberView {
  /** The contact's name here, else the name they were added under. */
  readonly name: string;
  readonly fingerprint: string;
  readonly admin: boolean;
  /** This node's own identity. */
  readonly me: boolean;
}

export interface GroupView {
  /** The group's name on this node (what `send`/`read` take). */
  readonly name: string;
  readonly id: string;
  readonly members: MemberView[];
}

export interface InviteView {
  readonly text: string;
  readonly expires: number;
  readonly addresses: string[];
}
