/**
 * Replying to, editing, deleting for everyone and reacting to a message
 * without JavaScript: the forms of islands/message_parts.tsx post here, and
 * each goes back to the conversation (or says, on a page of its own, why the
 * node refused). With JavaScript the island calls the API instead.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { MAX_TEXT } from "../../node/mod.ts";
import { apiError, callNode } from "../api.ts";
import type { AdminContext } from "../context.ts";
import { seg } from "../context.ts";
import { readForm } from "../forms.ts";
import { html, Layout } from "../layout.tsx";

const id = z.string({ error: "Which message is missing." })
  .regex(/^[0-9a-f]{4,64}$/, "That is not a message's id.");
const text = z.string({ error: "The text is missing." })
  .max(MAX_TEXT, `A message has at most ${MAX_TEXT} characters.`)
  .refine((t) => t.trim() !== "", "Type a message first.");

const actions = {
  reply: { form: z.object({ id, text }).strict(), method: "send" },
  edit: { form: z.object({ id, text }).strict(), method: "edit" },
  delete: { form: z.object({ id }).strict(), method: "delete" },
  react: {
    form: z.object({ id, emoji: z.string().max(32, "A reaction is one emoji.") }).strict(),
    method: "react",
  },
} as const;

export function messageActionPages(ctx: AdminContext): Hono {
  const app = new Hono();
  const refused = async (c: Context, name: string, error: string, code: ContentfulStatusCode) => {
    const me = await ctx.api.call("status", {});
    return html(
      c,
      <Layout title={name} status={me} section="chats" error={error}>
        <h1>Not done</h1>
        <p>
          <a href={`/chats/${seg(name)}`}>Back to {name}</a>
        </p>
      </Layout>,
      code,
    );
  };
  for (const [action, { form: schema, method }] of Object.entries(actions)) {
    app.post(`/chats/:name/${action}`, async (c) => {
      const name = c.req.param("name");
      const form = await readForm(c, schema as z.ZodType<Record<string, string>>);
      if (!form.ok) return refused(c, name, form.error, 400);
      const { id, ...rest } = form.data;
      const params = action === "reply"
        ? { chat: name, text: rest.text, reply: id }
        : { chat: name, id, ...rest };
      try {
        await callNode(ctx.api, method, params);
      } catch (err) {
        const { status, body } = apiError(err, ctx.log, method);
        return refused(c, name, body.error.message, status);
      }
      return c.redirect(`/chats/${seg(name)}`, 303);
    });
  }
  return app;
}
