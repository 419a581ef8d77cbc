/// <reference lib="dom" />
/**
 * One EventSource per page on /api/events, shared by every island on it.
 * Islands get each NodeEvent, and a call after a reconnect (to fetch what
 * they may have missed) or when the stream is lost for good.
 */
import type { NodeEvent } from "../node/api/mod.ts";

export type LiveState = "connecting" | "live" | "lost";

interface Listener {
  event(e: NodeEvent): void;
  /** The stream came back after a break: refetch. */
  resync?(): void;
  state?(s: LiveState): void;
}

const listeners = new Set<Listener>();
let source: EventSource | null = null;
let state: LiveState = "connecting";
let broken = false;

function setState(s: LiveState): void {
  state = s;
  for (const l of listeners) l.state?.(s);
}

function open(): void {
  source = new EventSource("/api/events");
  source.onopen = () => {
    setState("live");
    if (broken) { for (const l of listeners) l.resync?.(); }
    broken = false;
  };
  source.onmessage = (m: MessageEvent<string>) => {
    let e: NodeEvent;
    try {
      e = JSON.parse(m.data) as NodeEvent;
    } catch {
      return;
    }
    for (const l of listeners) l.event(e);
  };
  source.onerror = () => {
    broken = true;
    // CLOSED: the server refused (the node restarted with a new token): no retry.
    setState(source?.readyState === EventSource.CLOSED ? "lost" : "connecting");
  };
}

/** Subscribes to node events; returns the unsubscribe function. */
export function onEvents(listener: Listener): () => void {
  listeners.add(listener);
  listener.state?.(state);
  if (!source) open();
  return () => {
    listeners.delete(listener);
  };
}

/** Words for the live indicator. */
export function liveText(s: LiveState): string {
  return s === "live"
    ? "live"
    : s === "connecting"
    ? "connecting…"
    : "connection lost: reload the page (the node may have restarted)";
}
