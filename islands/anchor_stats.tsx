/// <reference lib="dom" />
/** A passive anchor's figures and members, refreshed on contact events and every few seconds. */
import { useState } from "preact/hooks";
import type { ContactView, StatusView } from "../node/api/mod.ts";
import { callApi } from "./_api.ts";
import { LiveNote, useContactRefresh } from "./_live.tsx";
import { formatTime, isoTime } from "./_format.ts";

export interface AnchorStatsProps {
  status: StatusView;
  members: ContactView[];
}

/** The relay load, when the node reports one (it is not part of StatusView yet). */
function relayLoad(status: StatusView): string {
  const s = status as StatusView & { relays?: number; relayBytes?: number };
  if (typeof s.relays !== "number") return "not reported by this node";
  return `${s.relays} relayed session${s.relays === 1 ? "" : "s"}${
    typeof s.relayBytes === "number" ? `, ${Math.round(s.relayBytes / 1024)} KiB` : ""
  }`;
}

export function AnchorStats(props: AnchorStatsProps) {
  const [status, setStatus] = useState(props.status);
  const [members, setMembers] = useState(props.members);
  const live = useContactRefresh(() => {
    callApi<StatusView>("status").then(setStatus).catch(() => {});
    callApi<ContactView[]>("contacts").then(setMembers).catch(() => {});
  }, 5000);

  return (
    <div>
      <LiveNote state={live} />
      <dl class="facts" aria-live="polite">
        <dt>Members</dt>
        <dd data-fact="members">{status.members ?? members.length}</dd>
        <dt>Stored records</dt>
        <dd data-fact="records">{status.records ?? 0}</dd>
        <dt>Sessions</dt>
        <dd data-fact="sessions">{status.sessions ?? status.online}</dd>
        <dt>Relay load</dt>
        <dd data-fact="relay">{relayLoad(status)}</dd>
      </dl>
      <h2>Members</h2>
      {members.length === 0
        ? <p class="muted">No members yet: give people this anchor's invite (Contacts).</p>
        : (
          <ul class="cards">
            {members.map((m) => (
              <li key={m.fingerprint} class="card" data-member={m.name}>
                <h3>
                  {m.name}{" "}
                  <span class={m.online ? "state-connected" : "muted"}>
                    {m.online ? "online" : "offline"}
                  </span>
                </h3>
                <dl class="facts">
                  <dt>Fingerprint</dt>
                  <dd class="mono">{m.fingerprint}</dd>
                  <dt>Last seen</dt>
                  <dd>
                    {m.lastSeen !== null
                      ? <time dateTime={isoTime(m.lastSeen)}>{formatTime(m.lastSeen)}</time>
                      : "never"}
                  </dd>
                </dl>
              </li>
            ))}
          </ul>
        )}
    </div>
  );
}
