/**
 * Chats as a messenger: the chat list on the left and the open conversation
 * on the right (one pane at a time on a phone, with a way back), and sending
 * without JavaScript.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  type ChatView,
  type ForkView,
  type GroupStateView,
  MAX_TEXT,
  type MemberView,
  type MessageView,
  type PeerView,
  type StatusView,
} from "../../node/mod.ts";
import { formatTime, isoTime } from "../../islands/_format.ts";
import { ChatTitle } from "../../islands/chat_title.tsx";
import { ChatList, ChatMenu, type ListPeer, listPeers } from "../../islands/chat_list.tsx";
import { type ChatIntro, Conversation } from "../../islands/conversation.tsx";
import { apiError, callNode } from "../api.ts";
import type { AdminContext } from "../context.ts";
import { seg } from "../context.ts";
import { forms, readForm } from "../forms.ts";
import { html, Island, Layout } from "../layout.tsx";
import { goneText, GroupGone, NewGroupForm } from "./groups.tsx";

/** Messages a conversation page loads at first. */
const FIRST = 200;

export function chatPages(ctx: AdminContext): Hono {
  const app = new Hono();
  const status = () => ctx.api.call("status", {});
  const listed = async () => {
    const [chats, peers] = await Promise.all([
      callNode(ctx.api, "chats", {}) as Promise<ChatView[]>,
      callNode(ctx.api, "peers", {}) as Promise<PeerView[]>,
    ]);
    return { chats, peers: listPeers(peers) };
  };

  app.get("/chats", async (c) => {
    const me = await status();
    if (me.passive) return c.redirect("/anchor", 303);
    const { chats, peers } = await listed();
    const archived = c.req.query("archived") === "1";
    return html(
      c,
      <Layout title="Chats" status={me} section="chats" app>
        <div class="messenger">
          <ListPane chats={chats} peers={peers} archived={archived} heading="h1" />
          <section class="pane-conv placeholder" aria-label="Conversation">
            {peers.some((p) => !p.anchor)
              ? <p class="muted">Pick a chat on the left, or start a group below the list.</p>
              : (
                // A new node: nobody to write to yet, so say how someone gets here.
                <div class="welcome" data-welcome>
                  <h2>No contacts yet</h2>
                  <p class="muted">
                    Invite someone: they paste your invite into their Roj and their chat appears
                    here. Until then, you can write notes to yourself.
                  </p>
                  <p>
                    <a class="button" href="/contacts#invite">Invite someone</a>
                  </p>
                </div>
              )}
          </section>
        </div>
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
    const [forks, { chats, peers }] = await Promise.all([
      callNode(ctx.api, "forks", { chat: name }) as Promise<ForkView[]>,
      listed(),
    ]);
    const kind: "notes" | "direct" = name === "notes" ? "notes" : "direct";
    const chat = chats.find((x) => x.name === name);
    const group = chat?.kind === "group";
    const peer = kind === "direct" && !group ? peers.find((p) => p.name === name) : undefined;
    const gone = group
      ? await callNode(ctx.api, "group.state", { group: name }) as GroupStateView
      : null;
    // Under a group's name, who is in it ("3 members · you, bob, carol"), as messengers show.
    const members = group && gone?.member
      ? await (callNode(ctx.api, "group.members", { group: name }) as Promise<MemberView[]>)
        .catch(() => null)
      : null;
    const intro = messages.length === 0 ? chatIntro(name, kind, peer, chat, members) : undefined;
    return html(
      c,
      <Layout title={name} status={me} section="chats" app>
        <div class="messenger has-chat">
          <ListPane chats={chats} peers={peers} current={name} heading="h2" />
          <section class="pane-conv" aria-labelledby="conv-title">
            <header class="conv-head">
              <a class="back" href="/chats" aria-label="Back to all chats">←</a>
              <Island
                component={ChatTitle}
                props={{
                  title: kind === "notes" ? "Notes to yourself" : name,
                  seed: peer?.fingerprint ?? chat?.id ?? name,
                  ...(peer ? { contact: { fingerprint: peer.fingerprint, online: peer.online } } : {
                    sub: members
                      ? groupLine(members)
                      : group
                      ? "group"
                      : kind === "notes"
                      ? "only on your devices"
                      : "",
                  }),
                }}
              />
              <nav class="conv-links" aria-label={`About ${name}`}>
                {(peer || group) && <a href={`/chats/${seg(name)}/files`}>Files</a>}
                {group && <a href={`/chats/${seg(name)}/members`}>Members</a>}
                {chat && <ChatMenu chat={chat} />}
              </nav>
            </header>
            {forks.map((f) => <ForkNotice key={f.authorFingerprint} fork={f} />)}
            {gone && !gone.member && <GroupGone state={gone} />}
            <Island
              component={Conversation}
              props={{
                chat: name,
                kind,
                messages,
                maxText: MAX_TEXT,
                last,
                ...(group ? { group: true } : {}),
                ...(gone && !gone.member ? { closed: goneText(gone) } : {}),
                ...(messages.length >= last && last < 100_000
                  ? { olderHref: `/chats/${seg(name)}?last=${Math.min(last * 5, 100_000)}` }
                  : {}),
                ...(extra.draft !== undefined ? { draft: extra.draft } : {}),
                ...(extra.error !== undefined ? { error: extra.error } : {}),
                ...(intro ? { intro } : {}),
              }}
            />
          </section>
        </div>
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

/** The head of an empty chat: who it is with, and the first thing worth doing there. */
function chatIntro(
  name: string,
  kind: "notes" | "direct",
  peer: ListPeer | undefined,
  chat: ChatView | undefined,
  members: readonly MemberView[] | null,
): ChatIntro | undefined {
  if (kind === "notes") {
    return { seed: name, title: "Notes to yourself", line: "Only on your devices." };
  }
  if (peer) {
    return {
      seed: peer.fingerprint,
      title: name,
      line: peer.fingerprint,
      link: { href: `/contacts/${seg(name)}/verify`, text: `Verify ${name}'s safety number` },
    };
  }
  if (chat?.kind !== "group") return undefined;
  return {
    seed: chat.id,
    title: name,
    line: members ? groupLine(members) : "group",
    link: { href: `/chats/${seg(name)}/members`, text: "Members" },
  };
}

/** "3 members · you, bob, carol": yourself first, the rest by name. */
function groupLine(members: readonly MemberView[]): string {
  const names = [
    ...members.filter((m) => m.me).map(() => "you"),
    ...members.filter((m) => !m.me).map((m) => m.name).sort((a, b) => a.localeCompare(b)),
  ];
  return `${members.length} member${members.length === 1 ? "" : "s"} · ${names.join(", ")}`;
}

/** The left pane: the chat list, archived chats, founding a group. */
function ListPane(
  props: {
    chats: ChatView[];
    peers: ListPeer[];
    archived?: boolean;
    current?: string;
    heading: "h1" | "h2";
  },
) {
  const { chats, peers, archived = false } = props;
  const hidden = chats.filter((x) => x.prefs?.archived).length;
  const H = props.heading;
  return (
    <aside class="pane-list" aria-label="Chats">
      <div class="list-head">
        <H>Chats</H>
      </div>
      <div class="list-body">
        <Island
          component={ChatList}
          props={{
            chats,
            peers,
            archived,
            ...(props.current !== undefined ? { current: props.current } : {}),
          }}
        />
        {(hidden > 0 || archived) && (
          <p class="archived-link">
            {archived
              ? <a href="/chats">Hide archived chats</a>
              : <a href="/chats?archived=1">Show archived chats ({hidden})</a>}
          </p>
        )}
        {/* Folded, as a messenger's "new group" button: the list is for chats. */}
        <details class="new-group">
          <summary>New group</summary>
          <NewGroupForm />
        </details>
      </div>
    </aside>
  );
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
