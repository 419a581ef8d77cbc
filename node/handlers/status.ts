/** What `roj status` and the admin's identity page show, gathered from the services. */
import type { IdentityView, StatusView } from "../api/mod.ts";
import type { CatchUpProgress } from "../chats/mod.ts";
import type { ContactBook } from "../contacts/mod.ts";
import type { Discovery } from "../discovery/mod.ts";
import type { AgentSigner } from "../identity/mod.ts";
import type { AnchorMailbox } from "../mailbox/mod.ts";
import type { PortMap } from "../portmap/mod.ts";
import type { Puncher } from "../punch/mod.ts";
import { natView } from "../reach/mod.ts";
import type { Relay } from "../relay/mod.ts";
import type { SessionManager } from "../sessions/mod.ts";
import { type Endpoint, formatEndpoint } from "../transport/mod.ts";

export interface StatusParts {
  readonly name: string;
  readonly keyLine: string;
  readonly fingerprint: string;
  readonly dataDir: string;
  readonly version: string;
  readonly passive: boolean;
  readonly contacts: ContactBook;
  readonly sessions: SessionManager;
  readonly discovery: Discovery;
  readonly relay: Relay;
  readonly progress: CatchUpProgress;
  readonly listening: Endpoint | undefined;
  readonly anchorMailbox: AnchorMailbox | undefined;
  readonly carryMailbox: AnchorMailbox | undefined;
  /** An anchor's held group files. */
  readonly anchorFiles?: { readonly usage: { files: number; bytes: number } } | undefined;
  readonly punch: Puncher | undefined;
  readonly portMap: PortMap | undefined;
  /** The identity guard's view (not on an anchor). */
  readonly identity: IdentityView | undefined;
  /** The signer in ssh-agent, when the key is there. */
  readonly agent: AgentSigner | undefined;
}

export function statusView(s: StatusParts): StatusView {
  const contacts = s.contacts.acceptedCount;
  const online = s.sessions.all().length;
  const catchingUp = s.progress.running;
  return {
    name: s.name,
    publicKey: s.keyLine,
    fingerprint: s.fingerprint,
    dataDir: s.dataDir,
    listen: s.listening ? [formatEndpoint(s.listening)] : [],
    contacts,
    online,
    version: s.version,
    ...(s.passive
      ? {
        passive: true,
        members: contacts,
        records: s.discovery.sealed.size,
        sessions: online,
        ...(s.anchorMailbox
          ? {
            mailbox: {
              ...s.anchorMailbox.store.usage,
              duplicates: s.anchorMailbox.store.duplicates,
            },
          }
          : {}),
        ...(s.anchorFiles ? { groupFiles: s.anchorFiles.usage } : {}),
      }
      : {}),
    ...(s.carryMailbox ? { carrying: s.carryMailbox.store.usage } : {}),
    ...(catchingUp.length > 0 ? { catchingUp } : {}),
    ...(s.relay.reachable !== undefined ? { reachable: s.relay.reachable } : {}),
    ...natView(s.punch?.mapping),
    relay: { enabled: s.relay.enabled, active: s.relay.active, bytes: s.relay.bytesRelayed },
    ...(s.portMap ? { portMap: s.portMap.status } : {}),
    ...(s.identity ? { identity: s.identity } : {}),
    ...(s.agent ? { agent: { socket: s.agent.socket, ...s.agent.state } } : {}),
  };
}
