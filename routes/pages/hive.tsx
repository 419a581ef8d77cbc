/** The hive: this node, its contacts and anchors, and the path to each. */
import { Hono } from "hono";
import type { PeerView } from "../../node/mod.ts";
import { HiveMap } from "../../islands/hive_map.tsx";
import { callNode } from "../api.ts";
import type { AdminContext } from "../context.ts";
import { html, Island, Layout } from "../layout.tsx";

export function hivePages(ctx: AdminContext): Hono {
  const app = new Hono();
  app.get("/hive", async (c) => {
    const me = await ctx.api.call("status", {});
    const peers = await callNode(ctx.api, "peers", {}) as PeerView[];
    return html(
      c,
      <Layout title="Hive" status={me} section="hive">
        <h1>Hive</h1>
        <p class="muted">
          You in the middle; contacts as circles, anchors as squares. Each line shows how your node
          reaches them now.
        </p>
        <Island
          component={HiveMap}
          props={{ me: { name: me.name, fingerprint: me.fingerprint }, peers }}
        />
      </Layout>,
    );
  });
  return app;
}
