/// <reference lib="dom" />
/**
 * The hive as a picture: this node in the middle, its contacts and anchors
 * around it, each edge drawn by path (direct, relayed, dialing, unreachable).
 * The same facts follow as a list, for screen readers and narrow windows.
 * Refreshed on contact events and every few seconds (dialing changes are not events).
 */
import { useState } from "preact/hooks";
import type { PeerView } from "../node/api/mod.ts";
import { callApi } from "./_api.ts";
import { LiveNote, useContactRefresh } from "./_live.tsx";
import { clip, formatTime, isoTime } from "./_format.ts";

export interface HiveMapProps {
  me: { name: string; fingerprint: string };
  peers: PeerView[];
}

export type Path = "direct" | "relayed" | "dialing" | "unreachable";

/**
 * How this node reaches a peer now. A session through a relay names it in
 * `path` (when the node reports one) or in its address ("via …").
 */
export function pathOf(peer: PeerView): Path {
  if (peer.state === "dialing") return "dialing";
  if (peer.state !== "connected") return "unreachable";
  const reported = (peer as PeerView & { path?: string }).path;
  if (reported === "relayed" || /^via |relay/i.test(peer.address ?? "")) return "relayed";
  return "direct";
}

const PATH_TEXT: Record<Path, string> = {
  direct: "connected directly",
  relayed: "connected through a relay",
  dialing: "dialling",
  unreachable: "unreachable",
};

const SIZE = 400;
const MID = SIZE / 2;
const RADIUS = 145;

function placed(peers: PeerView[]) {
  const sorted = [...peers].sort((a, b) =>
    a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === "anchor" ? -1 : 1
  );
  return sorted.map((p, i) => {
    const angle = (2 * Math.PI * i) / Math.max(sorted.length, 1) - Math.PI / 2;
    return {
      peer: p,
      path: pathOf(p),
      x: Math.round(MID + RADIUS * Math.cos(angle)),
      y: Math.round(MID + RADIUS * Math.sin(angle)),
    };
  });
}

/**
 * The picture's frame: just around what is drawn (labels hang below each node), so one or two
 * contacts do not sit in a square of empty space.
 */
export function frameOf(nodes: readonly { y: number }[]): string {
  // Cropped top and bottom only: the width stays, so the picture keeps its scale.
  const ys = [MID, ...nodes.map((n) => n.y)];
  const top = Math.max(0, Math.min(...ys) - 30);
  const bottom = Math.min(SIZE, Math.max(...ys) + 50);
  return `0 ${top} ${SIZE} ${bottom - top}`;
}

function Legend() {
  return (
    <ul class="legend" aria-label="Legend">
      {(Object.keys(PATH_TEXT) as Path[]).map((p) => (
        <li key={p}>
          <svg viewBox="0 0 40 12" aria-hidden="true">
            <line class={`edge ${p}`} x1="2" y1="6" x2="38" y2="6" />
          </svg>{" "}
          {PATH_TEXT[p]}
        </li>
      ))}
    </ul>
  );
}

export function HiveMap(props: HiveMapProps) {
  const [peers, setPeers] = useState(props.peers);
  const live = useContactRefresh(
    () => callApi<PeerView[]>("peers").then(setPeers).catch(() => {}),
    3000,
  );

  const nodes = placed(peers);
  const summary = nodes.length === 0
    ? `${props.me.name} has no contacts yet.`
    : `${props.me.name}: ` +
      nodes.map((n) => `${n.peer.name} ${PATH_TEXT[n.path]}`).join(", ") + ".";

  return (
    <div class="hive">
      <LiveNote state={live} />
      <svg viewBox={frameOf(nodes)} role="img" aria-label={summary}>
        {nodes.map((n) => (
          <line
            key={`e-${n.peer.fingerprint}`}
            class={`edge ${n.path}`}
            data-peer={n.peer.name}
            data-path={n.path}
            x1={MID}
            y1={MID}
            x2={n.x}
            y2={n.y}
          />
        ))}
        <g class="node me">
          <circle cx={MID} cy={MID} r="22" />
          <text x={MID} y={MID + 40}>{clip(props.me.name, 16)} (you)</text>
        </g>
        {nodes.map((n) => (
          <g key={`n-${n.peer.fingerprint}`} class={`node ${n.peer.kind}`}>
            <title>
              {`${n.peer.name} (${n.peer.kind}): ${PATH_TEXT[n.path]}${
                n.peer.address ? `, ${n.peer.address}` : ""
              }`}
            </title>
            {n.peer.kind === "anchor"
              ? <rect x={n.x - 16} y={n.y - 16} width="32" height="32" rx="4" />
              : <circle cx={n.x} cy={n.y} r="16" />}
            <text x={n.x} y={n.y + 32}>{clip(n.peer.name, 16)}</text>
          </g>
        ))}
      </svg>
      <Legend />
      {nodes.length === 0
        ? <p class="muted">No contacts or anchors yet.</p>
        : (
          <ul class="cards" aria-label="Paths to each peer">
            {nodes.map(({ peer, path }) => (
              <li key={peer.fingerprint} class="card" data-peer={peer.name} data-path={path}>
                <h3>
                  {peer.name} <span class={`state-${peer.state}`}>{PATH_TEXT[path]}</span>
                </h3>
                <dl class="facts">
                  <dt>Kind</dt>
                  <dd>{peer.kind}</dd>
                  <dt>Address</dt>
                  <dd class="mono">{peer.address ?? "none known"}</dd>
                  <dt>Learnt</dt>
                  <dd>{peer.learnt}</dd>
                  <dt>{peer.since !== null ? "Since" : "Last seen"}</dt>
                  <dd>
                    {peer.since !== null
                      ? <time dateTime={isoTime(peer.since)}>{formatTime(peer.since)}</time>
                      : peer.lastSeen !== null
                      ? <time dateTime={isoTime(peer.lastSeen)}>{formatTime(peer.lastSeen)}</time>
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
