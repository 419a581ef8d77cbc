/** Settings: what a browser notification shows (sender and text, or only "new message"). */
import { Hono } from "hono";
import type { SettingsView } from "../../node/mod.ts";
import { Notifier } from "../../islands/notifier.tsx";
import { apiError, callNode } from "../api.ts";
import type { AdminContext } from "../context.ts";
import { forms, readForm } from "../forms.ts";
import { html, Island, Layout } from "../layout.tsx";

export function settingsPages(ctx: AdminContext): Hono {
  const app = new Hono();
  const page = async (notice?: string, error?: string) => {
    const me = await ctx.api.call("status", {});
    const s = await callNode(ctx.api, "settings", {}) as SettingsView;
    return (
      <Layout title="Settings" status={me} section="settings" notice={notice} error={error}>
        <h1>Settings</h1>
        <h2>Notifications</h2>
        <Island component={Notifier} props={{ ask: true }} />
        <form method="post" action="/settings">
          <fieldset>
            <legend>A notification shows</legend>
            <label>
              <input
                type="radio"
                name="notifyPreview"
                value="full"
                checked={s.notifyPreview === "full"}
              />{" "}
              who wrote and what they wrote
            </label>
            <label>
              <input
                type="radio"
                name="notifyPreview"
                value="hidden"
                checked={s.notifyPreview === "hidden"}
              />{" "}
              only “New message” (for a screen others can see)
            </label>
          </fieldset>
          <button type="submit">Save</button>
        </form>
        <p class="muted">
          Muted chats raise no notification; mute, pin or archive a chat from the chat list or with
          {" "}
          <code>roj chat mute|pin|archive &lt;chat&gt;</code>.
        </p>
      </Layout>
    );
  };

  app.get("/settings", async (c) => html(c, await page()));
  app.post("/settings", async (c) => {
    const form = await readForm(c, forms.notifications);
    if (!form.ok) return html(c, await page(undefined, form.error), 400);
    try {
      await callNode(ctx.api, "settings.set", form.data);
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "settings.set");
      return html(c, await page(undefined, body.error.message), status);
    }
    return html(c, await page("Saved."));
  });
  return app;
}
