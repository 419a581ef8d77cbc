/** The "live" line an island shows once its event stream is open (nothing before hydration). */
import { useEffect, useState } from "preact/hooks";
import type { LiveState } from "./_events.ts";
import { liveText, onEvents } from "./_events.ts";

export function LiveNote(props: { state: LiveState | null }) {
  if (props.state === null) return null;
  return <p class="live" data-live={props.state} aria-live="polite">{liveText(props.state)}</p>;
}

/**
 * Runs `refresh` when a contact changes, when the event stream comes back, and
 * every `everyMs` while the page is visible; returns the stream's state.
 */
export function useContactRefresh(refresh: () => void, everyMs: number): LiveState | null {
  const [live, setLive] = useState<LiveState | null>(null);
  useEffect(() => {
    const off = onEvents({
      event(e) {
        if (e.type === "contact") refresh();
      },
      resync: refresh,
      state: setLive,
    });
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") refresh();
    }, everyMs);
    return () => {
      off();
      clearInterval(timer);
    };
  }, []);
  return live;
}
