/**
 * Search: every chat's messages for some words (GET /search?q=…[&chat=…]),
 * each hit with its context, linking to the message in its chat; and the
 * per-chat settings (mute, pin, archive) posted from the chat list. Both work
 * without JavaScript.
 */
import { Hono } from "hono";
import { formatTime, isoTime } from "../../islands/_format.ts";
import { MAX_QUERY, type SearchHitView, type SearchView } from "../../node/mod.ts";
import { apiError, callNode } from "../api.ts";
import type { AdminContext } from "../context.ts";
import { seg } from "../context.ts";
import { forms, readForm } from "../forms.ts";
import { html, Layout } from "../layout.tsx";
import { SearchBox } from "../search_box.tsx";

/** The link to a hit: its chat with enough messages loaded, at the message. */
export function hitHref(h: SearchHitView): string {
  const last = h.last > 200 ? `?last=${h.last}` : "";
  return `/chats/${seg(h.chat)}${last}#m-${h.hash.slice(0, 16)}`;
}

export function searchPages(ctx: AdminContext): Hono {
  const app = new Hono();

  app.get("/search", async (c) => {
    const me = await ctx.api.call("status", {});
    const q = (c.req.query("q") ?? "").trim().slice(0, MAX_QUERY);
    const chat = c.req.query("chat") || undefined;
    let result: SearchView | null = null;
    let error: string | undefined;
    if (q !== "") {
      try {
        result = await callNode(ctx.api, "search", {
          query: q,
          limit: 50,
          ...(chat ? { chat } : {}),
        }) as SearchView;
      } catch (err) {
        error = apiError(err, ctx.log, "search").body.error.message;
      }
    }
    return html(
      c,
      <Layout title={q ? `Search: ${q}` : "Search"} status={me} section="chats" error={error}>
        <h1>Search</h1>
        <SearchBox query={q} id="search-page-q" label="Words to look for" />
        {result && <Results result={result} chat={chat} />}
      </Layout>,
      error ? 400 : 200,
    );
  });

  // The chat list's mute / pin / archive buttons post here (the island too).
  app.post("/chats/:name/settings", async (c) => {
    const name = c.req.param("name");
    const form = await readForm(c, forms.chatSetting);
    if (!form.ok) return c.text(form.error, 400);
    const [field, on] = SETTING[form.data.set];
    try {
      await callNode(ctx.api, "chat.set", { chat: name, [field]: on });
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "chat.set");
      return c.text(body.error.message, status);
    }
    return c.redirect(form.data.set === "unarchive" ? "/chats?archived=1" : "/chats", 303);
  });

  return app;
}

const SETTING = {
  mute: ["muted", true],
  unmute: ["muted", false],
  pin: ["pinned", true],
  unpin: ["pinned", false],
  archive: ["archived", true],
  unarchive: ["archived", false],
} as const;

function Results({ result, chat }: { result: SearchView; chat: string | undefined }) {
  const { hits } = result;
  return (
    <section aria-label="Results">
      <p class="muted" role="status">
        {hits.length === 0
          ? `No messages with “${result.query}”${chat ? ` in ${chat}` : ""}.`
          : `${result.total} message${result.total === 1 ? "" : "s"}${chat ? ` in ${chat}` : ""}${
            hits.length < result.total ? `, the best ${hits.length} shown` : ""
          }.`}
        {result.ignored.length > 0 &&
          ` Too common to search for: ${result.ignored.join(", ")}.`}
        {!result.ready && " The index is still being built after a start: some may be missing."}
      </p>
      {hits.length > 0 && (
        <ol class="hits">
          {hits.map((h) => (
            <li key={h.hash} data-hit={h.chat}>
              <a href={hitHref(h)}>
                <span class="name">
                  {h.chat === "notes" ? "notes (to yourself)" : h.chat}
                </span>{" "}
                <span class="muted">
                  {/* In a chat with one person, who wrote it is the chat's name: not twice. */}
                  {h.mine ? "you · " : h.author !== h.chat ? `${h.author} · ` : ""}
                  <time dateTime={isoTime(h.ts)}>{formatTime(h.ts)}</time>
                </span>
                <span class="last">
                  {h.snippet.map((p, i) => p.hit ? <mark key={i}>{p.text}</mark> : p.text)}
                </span>
              </a>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
