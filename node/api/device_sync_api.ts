/**
 * A session with another device of this node's own person (node/device_sync):
 * "up" (its key checked out: the person key, or a device the person
 * certified and did not revoke; `direction` says who dialled), "down"
 * (`reason`), "refused" (`reason` says why, before anything was served).
 */
export type OwnDeviceEvent = {
  readonly type: "own-device";
  readonly op: "up" | "down" | "refused";
  readonly fingerprint: string;
  readonly direction?: "in" | "out";
  readonly reason?: string;
};

/**
 * Another device of the person changed a chat's settings (muted, pinned,
 * archived) or read it further (feature devprefs1): `chat` is the chat's id;
 * `chats` says the settings and unread count it has now.
 */
export type ChatSyncedEvent = {
  readonly type: "chat-synced";
  readonly chat: string;
};
