/// <reference lib="dom" />
/** A button that copies a text; shown only where JavaScript runs. */
import { useEffect, useState } from "preact/hooks";

export interface CopyButtonProps {
  text: string;
  /** The button's words. @default "Copy" */
  label?: string;
}

function copy(text: string): Promise<void> {
  if (navigator.clipboard && globalThis.isSecureContext) {
    return navigator.clipboard.writeText(text);
  }
  // Not a secure context (an admin reached over the network): the old way.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "sr-only";
  document.body.append(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
}

export function CopyButton(props: CopyButtonProps) {
  const [ready, setReady] = useState(false);
  const [said, setSaid] = useState("");
  useEffect(() => setReady(true), []);
  return (
    <span class="copy">
      <button
        type="button"
        class="secondary"
        hidden={!ready}
        onClick={() =>
          copy(props.text).then(
            () => setSaid("Copied."),
            () => setSaid("Could not copy: select the text and copy it by hand."),
          )}
      >
        {props.label ?? "Copy"}
      </button>{" "}
      <span role="status" class="muted">{said}</span>
    </span>
  );
}
