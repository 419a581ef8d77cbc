/// <reference lib="dom" />
/**
 * The open conversation's title: its picture and name, and under them, for
 * a contact, online or offline (kept current from session events) and the
 * fingerprint second.
 */
import { useEffect, useState } from "preact/hooks";
import { Avatar } from "./_avatar.tsx";
import { onEvents } from "./_events.ts";

export interface ChatTitleProps {
  title: string;
  /** The identicon's seed: the contact's fingerprint, else the chat's id. */
  seed: string;
  /** For a contact: their fingerprint, and whether a session is up now. */
  contact?: { fingerprint: string; online: boolean };
  /** What the line under the name says when it is not a contact. */
  sub?: string;
}

export function ChatTitle(props: ChatTitleProps) {
  const { contact } = props;
  const [online, setOnline] = useState(contact?.online ?? false);
  useEffect(() => {
    if (!contact) return;
    return onEvents({
      event(e) {
        if (e.type === "session" && e.fingerprint === contact.fingerprint) {
          setOnline(e.state === "up");
        }
      },
    });
  }, [contact?.fingerprint]);
  return (
    <>
      <Avatar seed={props.seed} online={online} />
      <div class="title">
        <h1 id="conv-title">{props.title}</h1>
        <p class="sub muted">
          {contact
            ? (
              <>
                <span
                  class={online ? "state-connected" : ""}
                  data-presence={online ? "online" : "offline"}
                >
                  {online ? "online" : "offline"}
                </span>{" "}
                · <span class="mono">{contact.fingerprint}</span>
              </>
            )
            : props.sub}
        </p>
      </div>
    </>
  );
}
