/**
 * Replying to, editing, deleting for everyone and reacting to a message
 * without JavaScript: the forms of islands/message_parts.tsx post here, and
 * each goes back to the conversation (or says, on a page of its own, why the
 * node refused). With JavaScript the island calls the API instead. And the
 * read receipts page: on or off for everyone, and for each contact.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { MAX_TEXT, type PeerView, type ReceiptsView, type StatusView } from "../../node/mod.ts";
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
  app.get("/receipts", async (c) => {
    const me = await ctx.api.call("status", {});
    const r = await callNode(ctx.api, "receipts", {}) as ReceiptsView;
    // People only: anchors run no chats.
    const contacts = (await callNode(ctx.api, "peers", {}) as PeerView[])
      .filter((p) => p.kind === "person").map((p) => p.name);
    return html(c, <ReceiptsPage status={me} receipts={r} contacts={contacts} />);
  });

  const receiptsForm = z.object({
    on: z.enum(["on", "off"], { error: "Say on or off." }),
    contact: z.string().trim().min(1).max(40, "A name has at most 40 characters.").optional(),
  }).strict();
  app.post("/receipts", async (c) => {
    const form = await readForm(c, receiptsForm);
    if (!form.ok) return refused(c, "receipts", form.error, 400);
    try {
      await callNode(ctx.api, "receipts", {
        on: form.data.on === "on",
        ...(form.data.contact !== undefined ? { contact: form.data.contact } : {}),
      });
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "receipts");
      return refused(c, "receipts", body.error.message, status);
    }
    return c.redirect("/receipts", 303);
  });

  return app;
}

interface ReceiptsPageProps {
  status: StatusView;
  receipts: ReceiptsView;
  /** The names of the contacts who are people. */
  contacts: string[];
}

function Toggle(props: { on: boolean; contact?: string; label: string }) {
  return (
    <form method="post" action="/receipts" class="inline">
      <input type="hidden" name="on" value={props.on ? "off" : "on"} />
      {props.contact !== undefined && <input type="hidden" name="contact" value={props.contact} />}
      <button type="submit">{props.label}</button>
    </form>
  );
}

function ReceiptsPage({ status, receipts: r, contacts }: ReceiptsPageProps) {
  return (
    <Layout title="Read receipts" status={status} section="identity">
      <h1>Read receipts</h1>
      <p>
        A read receipt tells a contact you have read their messages, and shows you (✓✓) when they
        have read yours. It says nothing more than "read", goes only over your direct session, and
        is never stored in the chat. Off means none are sent to them and none of theirs are shown.
      </p>
      <p data-receipts={r.on ? "on" : "off"}>
        Read receipts are <strong>{r.on ? "on" : "off for everyone"}</strong>.{" "}
        <Toggle on={r.on} label={r.on ? "Turn off for everyone" : "Turn on"} />
      </p>
      {r.on && contacts.length > 0 && (
        <ul>
          {contacts.map((name) => {
            const on = !r.offFor.includes(name);
            return (
              <li key={name} data-receipts-for={name} data-on={on ? "true" : "false"}>
                {name}: {on ? "on" : "off"}{" "}
                <Toggle
                  on={on}
                  contact={name}
                  label={on ? `Turn off for ${name}` : `Turn on for ${name}`}
                />
              </li>
            );
          })}
        </ul>
      )}
    </Layout>
  );
}
