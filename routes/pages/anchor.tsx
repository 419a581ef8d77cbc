/** A passive anchor's page instead of chats: members, stored records, sessions, relay load. */
import { Hono } from "hono";
import type { ContactView } from "../../node/mod.ts";
import { AnchorStats } from "../../islands/anchor_stats.tsx";
import { callNode } from "../api.ts";
import type { AdminContext } from "../context.ts";
import { html, Island, Layout } from "../layout.tsx";

export function anchorPages(ctx: AdminContext): Hono {
  const app = new Hono();
  app.get("/anchor", async (c) => {
    const me = await ctx.api.call("status", {});
    if (!me.passive) return c.redirect("/chats", 303);
    const members = await callNode(ctx.api, "contacts", {}) as ContactView[];
    return html(
      c,
      <Layout title="Anchor" status={me} section="anchor">
        <h1>Anchor</h1>
        <p class="muted">
          This node is a passive anchor: it keeps sealed address records for its members and relays
          for them. It runs no chats and can read neither.
        </p>
        <Island component={AnchorStats} props={{ status: me, members }} />
      </Layout>,
    );
  });
  return app;
}
