/** The "live" line an island shows once its event stream is open (nothing before hydration). */
import type { LiveState } from "./_events.ts";
import { liveText } from "./_events.ts";

export function LiveNote(props: { state: LiveState | null }) {
  if (props.state === null) return null;
  return <p class="live" aria-live="polite">{liveText(props.state)}</p>;
}
