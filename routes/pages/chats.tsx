/** Chats: the list, one conversation, and sending without JavaScript. */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  type ChatView,
  type ContactView,
  type ForkView,
  MAX_TEXT,
  type MessageView,
  type StatusView,
} from "../../node/mod.ts";
import { formatTime, isoTime } from "../../islands/_format.ts";
import { ChatList } from "../../islands/chat_list.tsx";
import { Conversation } from "../../islands/conversation.tsx";
import { apiError, callNode } from "../api.ts";
import type { AdminContext } from "../context.ts";
import { seg } from "../context.ts";
import { forms, readForm } from "../forms.ts";
import { html, Island, Layout } from "../layout.tsx";
import { NewGroupForm } from "./groups.tsx";

/** Messages a conversation page loads at first. */
const FIRST = 200;

export function chatPages(ctx: AdminContext): Hono {
  const app = new Hono();
  const status = () => ctx.api.call("status", {});

  app.get("/chats", async (c) => {
    const me = await status();
    if (me.passive) return c.redirect("/anchor", 303);
    const chats = await callNode(ctx.api, "chats", {}) as ChatView[];
    const archived = c.req.query("archived") === "1";
    const hidden = chats.filter((x) => x.prefs?.archived).length;
    return html(
      c,
      <Layout title="Chats" status={me} section="chats">
        <h1>Chats</h1>
        <Island component={ChatList} props={{ chats, archived }} />
        {(hidden > 0 || archived) && (
          <p>
            {archived
              ? <a href="/chats">Hide archived chats</a>
              : <a href="/chats?archived=1">Show archived chats ({hidden})</a>}
          </p>
        )}
        <NewGroupForm />
      </Layout>,
    );
  });

  const conversation = async (
    c: Context,
    me: StatusView,
    name: string,
    extra: { draft?: string; error?: string; code?: ContentfulStatusCode } = {},
  ): Promise<Response> => {
    const lastParam = Number(c.req.query("last") ?? FIRST);
    const last = Number.isInteger(lastParam) && lastParam >= 1 && lastParam <= 100_000
      ? lastParam
      : FIRST;
    let messages: MessageView[];
    try {
      messages = await callNode(ctx.api, "read", { chat: name, last }) as MessageView[];
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "read");
      return html(
        c,
        <Layout title="Chat" status={me} section="chats" error={body.error.message}>
          <h1>Chat not found</h1>
          <p>
            <a href="/chats">All chats</a>
          </p>
        </Layout>,
        status,
      );
    }
    const forks = await callNode(ctx.api, "forks", { chat: name }) as ForkView[];
    const kind: "notes" | "direct" = name === "notes" ? "notes" : "direct";
    const group = (await callNode(ctx.api, "chats", {}) as ChatView[])
      .find((x) => x.name === name && x.kind === "group");
    const contact = kind === "direct"
      ? (await callNode(ctx.api, "contacts", {}) as ContactView[]).find((k) => k.name === name)
      : undefined;
    return html(
      c,
      <Layout title={name} status={me} section="chats">
        <h1>{kind === "notes" ? "Notes to yourself" : name}</h1>
        {contact && (
          <p class="muted">
            <span class={contact.online ? "state-connected" : ""}>
              {contact.online ? "online" : "offline"}
            </span>{" "}
            · <span class="mono">{contact.fingerprint}</span> ·{" "}
            <a href={`/chats/${seg(name)}/files`}>Files</a>
          </p>
        )}
        {group && (
          <p>
            <a href={`/chats/${seg(name)}/members`}>Members</a> ·{" "}
            <a href={`/chats/${seg(name)}/files`}>Files</a>
          </p>
        )}
        {forks.map((f) => <ForkNotice key={f.authorFingerprint} fork={f} />)}
        {messages.length >= last && last < 100_000 && (
          <p>
            <a href={`/chats/${seg(name)}?last=${Math.min(last * 5, 100_000)}`}>
              Show older messages
            </a>
          </p>
        )}
        <Island
          component={Conversation}
          props={{
            chat: name,
            kind,
            messages,
            maxText: MAX_TEXT,
            last,
            ...(extra.draft !== undefined ? { draft: extra.draft } : {}),
            ...(extra.error !== undefined ? { error: extra.error } : {}),
          }}
        />
        <p>
          <a href="/chats">All chats</a>
        </p>
      </Layout>,
      extra.code ?? 200,
    );
  };

  app.get("/chats/:name", async (c) => {
    const me = await status();
    if (me.passive) return c.redirect("/anchor", 303);
    return conversation(c, me, c.req.param("name"));
  });

  // Without JavaScript the send box posts here; the island uses POST /api/send.
  app.post("/chats/:name/send", async (c) => {
    const me = await status();
    const name = c.req.param("name");
    const form = await readForm(c, forms.send);
    if (!form.ok) {
      return conversation(c, me, name, {
        draft: form.values.text ?? "",
        error: form.error,
        code: 400,
      });
    }
    try {
      if (name === "notes") await callNode(ctx.api, "note", { text: form.data.text });
      else await callNode(ctx.api, "send", { chat: name, text: form.data.text });
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "send");
      return conversation(c, me, name, {
        draft: form.data.text,
        error: body.error.message,
        code: status,
      });
    }
    return c.redirect(`/chats/${seg(name)}`, 303);
  });

  return app;
}

/**
 * A fork on record: the author's key signed two different entries for one
 * place of their chain here. Said once per author and chat: the first entry
 * is kept and no more of that fork is taken.
 */
function ForkNotice({ fork: f }: { fork: ForkView }) {
  const seen = (
    <>
      first seen <time datetime={isoTime(f.firstSeen)}>{formatTime(f.firstSeen)}</time>
    </>
  );
  const hashes = <span class="mono">{f.kept.slice(0, 8)} / {f.twin.slice(0, 8)}</span>;
  return (
    <p class="error" role="alert" data-fork={f.seq}>
      {f.mine
        ? (
          <>
            This identity signed two different entries #{f.seq}{" "}
            ({seen}). Is it running on another device too? The first is kept ({hashes}).
          </>
        )
        : (
          <>
            {f.author}'s node signed two different entries #{f.seq}{" "}
            ({seen}). The first is kept; no more of that fork is taken ({hashes}).
          </>
        )}
    </p>
  );
}
