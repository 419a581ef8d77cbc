/**
 * Introductions: the ones waiting for you (accept, decline); introduce two
 * contacts to each other; a shareable card of a contact (text, copy button,
 * QR code); import a card someone gave you.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import type { CardView, IntroductionView, PeerView } from "../../node/mod.ts";
import { CopyButton } from "../../islands/copy_button.tsx";
import { formatTime, isoTime } from "../../islands/_format.ts";
import { apiError, callNode } from "../api.ts";
import { type AdminContext, seg } from "../context.ts";
import { readForm } from "../forms.ts";
import { html, Island, Layout } from "../layout.tsx";
import { QrCode } from "../qr.tsx";

const contact = (what: string) =>
  z.string({ error: `Pick ${what}.` }).trim().min(1, `Pick ${what}.`).max(40, "Pick a contact.");
const id = z.string({ error: "The introduction is missing." })
  .regex(/^[0-9a-f]{32}$/, "That is not an introduction.");

/** The forms of this page. */
const introForms = {
  answer: z.object({ id }).strict(),
  introduce: z.object({ a: contact("the first contact"), b: contact("the second contact") })
    .strict()
    .refine((f) => f.a.toLowerCase() !== f.b.toLowerCase(), "Pick two different contacts."),
  card: z.object({
    name: z.string({ error: "Pick a contact." }).trim().max(40, "Pick a contact.")
      .transform((n) => (n === "" ? undefined : n)),
  }).strict(),
  import: z.object({
    card: z.string({ error: "The card is missing." }).trim().min(1, "Paste a card first.")
      .max(2048, "A card has at most 2048 characters; this is not one."),
  }).strict(),
} as const;

const DONE: Record<string, (name: string) => string> = {
  accepted: (n) => `Accepted. You and ${n} become contacts once ${n} accepts too.`,
  declined: () => "Declined. Only the fact that you declined is kept.",
  introduced: (n) => `Introduced ${n}. Each sees the other once they accept.`,
  asked: (n) => `Asked for an introduction to ${n}. You become contacts once ${n} accepts.`,
};

function Waiting(props: { list: IntroductionView[] }) {
  if (props.list.length === 0) return <p class="muted">No introductions are waiting.</p>;
  return (
    <ul class="cards">
      {props.list.map((i) => (
        <li class="card" data-introduction={i.id} key={i.id}>
          <h3>{i.introducer} introduces {i.name}</h3>
          <dl class="facts">
            <dt>Fingerprint</dt>
            <dd class="mono">{i.fingerprint}</dd>
            <dt>Open until</dt>
            <dd>
              <time dateTime={isoTime(i.expires)}>{formatTime(i.expires)}</time>
            </dd>
          </dl>
          {i.state === "queued"
            ? <p class="muted">Not sent yet: it goes when {i.introducer} is connected.</p>
            : i.state === "accepted"
            ? <p class="muted">You accepted; waiting for {i.name}.</p>
            : (
              <div class="row">
                <form method="post" action="/introductions/accept" class="inline">
                  <input type="hidden" name="id" value={i.id} />
                  <button type="submit">Accept {i.name}</button>
                </form>
                <form method="post" action="/introductions/decline" class="inline">
                  <input type="hidden" name="id" value={i.id} />
                  <button type="submit" class="secondary">Decline {i.name}</button>
                </form>
              </div>
            )}
        </li>
      ))}
    </ul>
  );
}

function Pick(
  props: { id: string; name: string; label: string; people: string[]; me?: string },
) {
  return (
    <div class="grow">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name} required={props.me === undefined}>
        {props.me !== undefined && <option value="">{props.me}</option>}
        {props.people.map((p) => <option value={p} key={p}>{p}</option>)}
      </select>
    </div>
  );
}

export function introductionPages(ctx: AdminContext): Hono {
  const app = new Hono();

  const list = async (
    c: Context,
    extra: { error?: string; notice?: string; pasted?: string; code?: ContentfulStatusCode } = {},
  ) => {
    const me = await ctx.api.call("status", {});
    const waiting = me.passive
      ? []
      : await callNode(ctx.api, "introductions", {}) as IntroductionView[];
    const people = (await callNode(ctx.api, "peers", {}) as PeerView[])
      .filter((p) => p.kind === "person").map((p) => p.name);
    return html(
      c,
      <Layout
        title="Introductions"
        status={me}
        section="contacts"
        error={extra.error}
        notice={extra.notice}
      >
        <h1>Introductions</h1>
        <p class="muted">
          Neither person learns anything of where the other is until both have accepted.
        </p>
        <h2>Waiting</h2>
        <Waiting list={waiting} />
        <h2 id="introduce">Introduce two contacts</h2>
        {people.length < 2
          ? <p class="muted">You need two contacts to introduce them.</p>
          : (
            <form method="post" action="/introductions/introduce" class="row">
              <Pick id="intro-a" name="a" label="Introduce" people={people} />
              <Pick id="intro-b" name="b" label="to" people={[...people.slice(1), people[0]!]} />
              <button type="submit">Introduce…</button>
            </form>
          )}
        <h2 id="card">Share a card</h2>
        <p class="muted">
          A card of a contact, signed by you, for someone else: they import it, and you introduce
          them. Your own card reaches you through an anchor you both use. It names no address.
        </p>
        <form method="post" action="/introductions/card" class="row">
          <Pick
            id="card-name"
            name="name"
            label="A card of"
            people={people}
            me="yourself"
          />
          <button type="submit" class="secondary">Make a card</button>
        </form>
        <h2 id="import">Import a card</h2>
        <form method="post" action="/introductions/import">
          <label for="card-text">Card (starts with rojcard1: or rojcard2:)</label>
          <textarea
            id="card-text"
            name="card"
            rows={3}
            class="mono"
            required
            maxLength={3500}
            spellcheck={false}
            value={extra.pasted ?? ""}
          />
          <p>
            <button type="submit">Ask for the introduction</button>
          </p>
        </form>
      </Layout>,
      extra.code ?? 200,
    );
  };

  /** Runs a form's call; a refusal comes back on the page with its reason. */
  const act = <T,>(
    path: string,
    schema: z.ZodType<T>,
    run: (data: T) => Promise<string>,
  ) =>
    app.post(path, async (c) => {
      const form = await readForm(c, schema);
      if (!form.ok) {
        return list(c, { error: form.error, pasted: form.values.card ?? "", code: 400 });
      }
      try {
        return c.redirect(await run(form.data), 303);
      } catch (err) {
        const { status, body } = apiError(err, ctx.log, path);
        return list(c, { error: body.error.message, pasted: form.values.card ?? "", code: status });
      }
    });

  app.get("/introductions", (c) => {
    const done = c.req.query("done");
    const name = (c.req.query("name") ?? "").slice(0, 100);
    const say = done && Object.hasOwn(DONE, done) ? DONE[done]!(name) : undefined;
    return list(c, say ? { notice: say } : {});
  });

  act("/introductions/accept", introForms.answer, async (f) => {
    const i = await callNode(ctx.api, "accept", f) as IntroductionView;
    return `/introductions?done=accepted&name=${seg(i.name)}`;
  });
  act("/introductions/decline", introForms.answer, async (f) => {
    await callNode(ctx.api, "decline", f);
    return "/introductions?done=declined";
  });
  act("/introductions/introduce", introForms.introduce, async (f) => {
    await callNode(ctx.api, "introduce", f);
    return `/introductions?done=introduced&name=${seg(`${f.a} and ${f.b}`)}`;
  });
  act("/introductions/import", introForms.import, async (f) => {
    const i = await callNode(ctx.api, "card.import", f) as IntroductionView;
    return `/introductions?done=asked&name=${seg(i.name)}`;
  });

  app.post("/introductions/card", async (c) => {
    const form = await readForm(c, introForms.card);
    if (!form.ok) return list(c, { error: form.error, code: 400 });
    let card: CardView;
    try {
      const { name } = form.data;
      card = await callNode(ctx.api, "card", name === undefined ? {} : { name }) as CardView;
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "card");
      return list(c, { error: body.error.message, code: status });
    }
    const me = await ctx.api.call("status", {});
    return html(
      c,
      <Layout title="A card" status={me} section="contacts">
        <h1>A card of {card.name}</h1>
        <p>
          Give this to someone who should meet{" "}
          {card.name}. When they import it, you introduce them, and they become contacts once{" "}
          {card.name} (<span class="mono">{card.fingerprint}</span>) accepts. It is valid until{" "}
          <time dateTime={isoTime(card.expires)}>{formatTime(card.expires)}</time>.
        </p>
        <label for="card-out">Card text</label>
        <textarea id="card-out" class="mono" rows={4} readOnly data-card value={card.text} />
        <div class="buttons">
          <Island component={CopyButton} props={{ text: card.text, label: "Copy the card" }} />
        </div>
        <QrCode text={card.text} label="The card as a QR code" />
        <p>
          <a href="/introductions">Back to introductions</a>
        </p>
      </Layout>,
    );
  });

  return app;
}
