/**
 * Verifying a contact: the safety number of both keys (the same 60 digits on
 * their side, under Contacts → Verify), as digits and as a QR code, and a
 * button to mark them verified once every digit matched (or to take it back).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { VerifyView } from "../../node/mod.ts";
import { formatTime, isoTime } from "../../islands/_format.ts";
import { apiError, callNode } from "../api.ts";
import { type AdminContext, seg } from "../context.ts";
import { forms, readForm } from "../forms.ts";
import { html, Layout } from "../layout.tsx";
import { QrCode } from "../qr.tsx";

function VerifyPage(props: { v: VerifyView }) {
  const { v } = props;
  return (
    <>
      <h1>Verify {v.name}</h1>
      <p>
        Compare this safety number with the one {v.name}{" "}
        sees for you, in person or on a call you trust (or let them scan the code). It is made from
        both keys, so it is the same on both sides; if any digit differs, someone may be in between.
      </p>
      <p class="safety-number mono" data-safety-number={v.number} aria-label="Safety number">
        {v.groups.map((g, i) => <span key={i}>{g}</span>)}
      </p>
      <QrCode text={v.number} label="The safety number as a QR code" />
      <dl class="facts">
        <dt>{v.name}</dt>
        <dd class="mono">{v.fingerprint}</dd>
        <dt>You</dt>
        <dd class="mono">{v.myFingerprint}</dd>
        <dt>State</dt>
        <dd data-verified={String(v.verified)}>
          {v.verified
            ? (
              <>
                <span class="state-connected">verified</span>
                {v.verifiedAt !== null && (
                  <>
                    {" since "}
                    <time dateTime={isoTime(v.verifiedAt)}>{formatTime(v.verifiedAt)}</time>
                  </>
                )}
              </>
            )
            : "not verified"}
        </dd>
      </dl>
      <form method="post" action="/contacts/verify" class="row">
        <input type="hidden" name="name" value={v.name} />
        <input type="hidden" name="verified" value={v.verified ? "no" : "yes"} />
        {v.verified
          ? <button type="submit" class="secondary">Take the verified mark back</button>
          : <button type="submit">The numbers match: mark {v.name} verified</button>}
      </form>
      <p>
        <a href="/contacts">Back to contacts</a>
      </p>
    </>
  );
}

export function verifyPages(ctx: AdminContext): Hono {
  const app = new Hono();

  const page = async (c: Context, name: string, extra: { notice?: string } = {}) => {
    const me = await ctx.api.call("status", {});
    let v: VerifyView;
    try {
      v = await callNode(ctx.api, "verify", { name }) as VerifyView;
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "verify");
      return html(
        c,
        <Layout title="Verify" status={me} section="contacts" error={body.error.message}>
          <p>
            <a href="/contacts">Back to contacts</a>
          </p>
        </Layout>,
        status as ContentfulStatusCode,
      );
    }
    return html(
      c,
      <Layout title={`Verify ${v.name}`} status={me} section="contacts" notice={extra.notice}>
        <VerifyPage v={v} />
      </Layout>,
    );
  };

  app.get("/contacts/:name/verify", (c) => {
    const done = c.req.query("done");
    return page(c, c.req.param("name").slice(0, 40), {
      ...(done === "marked" ? { notice: "Marked verified." } : {}),
      ...(done === "unmarked" ? { notice: "No longer marked verified." } : {}),
    });
  });

  app.post("/contacts/verify", async (c) => {
    const form = await readForm(c, forms.verify);
    if (!form.ok) return c.text(`${form.error}\n`, 400);
    try {
      const v = await callNode(ctx.api, "verify.mark", {
        name: form.data.name,
        verified: form.data.verified,
      }) as VerifyView;
      return c.redirect(
        `/contacts/${seg(v.name)}/verify?done=${v.verified ? "marked" : "unmarked"}`,
        303,
      );
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "verify.mark");
      return c.text(`${body.error.message}\n`, status);
    }
  });

  return app;
}
