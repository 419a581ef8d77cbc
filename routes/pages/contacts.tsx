/**
 * Contacts: who they are, whether and how they are reached; rename, remove,
 * block; make an invite (text, copy button, QR code); add from an invite
 * after a preview of whom it names.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ContactView, InviteView, PeerView, StatusView } from "../../node/mod.ts";
import { fingerprint, isRojError } from "../../node/mod.ts";
import { parseInvite } from "../../node/mod.ts";
import { CopyButton } from "../../islands/copy_button.tsx";
import { pathOf } from "../../islands/hive_map.tsx";
import { formatTime, isoTime } from "../../islands/_format.ts";
import { Avatar } from "../../islands/_avatar.tsx";
import { apiError, callNode } from "../api.ts";
import { type AdminContext, seg } from "../context.ts";
import { forms, readForm } from "../forms.ts";
import { html, Island, Layout } from "../layout.tsx";
import { QrCode } from "../qr.tsx";

const DONE: Record<string, (name: string) => string> = {
  renamed: (n) => `Renamed to ${n}.`,
  removed: (n) => `Removed ${n}. Your chat history with them stays.`,
  blocked: (n) => `Blocked ${n}: their node is refused from now on.`,
  added: (n) => `Added ${n}. You can chat now.`,
  connected: (n) => `Reached ${n}; the others follow as they are found.`,
};

/**
 * Shown when there are contacts and none is reachable: the cascade restarts
 * from one friend's current address, typed by hand (DESIGN.md "Finding each other", 5).
 */
function NobodyReachable() {
  return (
    <section class="warning" role="status" data-nobody-reachable>
      <p>
        <strong>Nobody reachable.</strong>{" "}
        Ask a friend for their current address (they see it under Identity), then connect to it: the
        rest of your contacts are found from there.
      </p>
      <form method="post" action="/contacts/connect">
        <label for="connect-address">Their address</label>
        <input
          id="connect-address"
          name="address"
          type="text"
          class="mono"
          maxLength={300}
          placeholder="203.0.113.7:7420"
          required
        />
        <button type="submit">Connect</button>
      </form>
    </section>
  );
}

const PATH_WORDS = {
  direct: "direct",
  relayed: "through a relay",
  dialing: "dialling…",
  unreachable: "unreachable",
} as const;

/** A moment as a `<time>`, or `none` when there is none. */
export function When(props: { ts: number | null; none: string }) {
  return props.ts === null
    ? <>{props.none}</>
    : <time dateTime={isoTime(props.ts)}>{formatTime(props.ts)}</time>;
}

/** What removing and blocking do, said on the menu and again on the confirmation page. */
const CONSEQUENCE = {
  remove: (n: string) =>
    `Removing forgets ${n}: their node can no longer sign in, and they can be added again from a new invite. Your chat history with them stays.`,
  block: (n: string) =>
    `Blocking forgets ${n} and refuses their node from now on, even with a new invite. Your chat history with them stays.`,
} as const;

/**
 * One contact: the name first, then the fingerprint (small, monospace) and
 * whether the safety number was compared; rename, remove and block behind a
 * menu (a details element: no script needed), remove and block each asking
 * again on a page of their own.
 */
function ContactCard(props: { contact: ContactView; peer: PeerView | undefined }) {
  const { contact: k, peer } = props;
  const id = `c-${k.fingerprint.replace(/[^A-Za-z0-9]/g, "")}`;
  return (
    <li class="card contact-card" data-contact={k.name} aria-labelledby={`${id}-name`}>
      <div class="contact-head">
        {/* The same picture as in the chat list, so a contact is recognised across pages. */}
        <Avatar seed={k.fingerprint} />
        <div class="contact-who">
          <h3 id={`${id}-name`}>
            {k.name}{" "}
            <span
              class={k.online ? "state-connected contact-online" : "muted contact-online"}
              data-online={String(k.online)}
            >
              {k.online ? "online" : "offline"}
            </span>
          </h3>
          <p class="contact-fp mono" data-fingerprint>{k.fingerprint}</p>
          <p class="contact-trust">
            <span
              class={k.verified ? "badge" : "muted"}
              data-verified={String(k.verified)}
            >
              {k.verified ? "verified" : "not verified"}
            </span>
          </p>
        </div>
        <details class="contact-menu" data-contact-menu>
          <summary aria-label={`Actions for ${k.name}`}>Actions ▾</summary>
          <div class="contact-menu-body">
            <form method="post" action="/contacts/rename">
              <input type="hidden" name="name" value={k.name} />
              <label for={`${id}-to`}>New name for {k.name}</label>
              <div class="row">
                <input id={`${id}-to`} name="to" type="text" required maxLength={40} />
                <button type="submit" class="secondary">Rename</button>
              </div>
            </form>
            <ul class="contact-menu-items">
              <li>
                <a href={`/contacts/${seg(k.name)}/remove`} class="danger-link">Remove {k.name}…</a>
              </li>
              <li>
                <a href={`/contacts/${seg(k.name)}/block`} class="danger-link">Block {k.name}…</a>
              </li>
            </ul>
          </div>
        </details>
      </div>
      <dl class="facts">
        <dt>Path</dt>
        <dd>
          {peer
            ? (
              <>
                {PATH_WORDS[pathOf(peer)]}
                {peer.address && (
                  <>
                    {" · "}
                    <span class="mono">{peer.address}</span>
                  </>
                )}
                {peer.kind === "anchor" ? " · anchor" : ""}
              </>
            )
            : k.addresses[0] ?? "no address known"}
        </dd>
        <dt>Last seen</dt>
        <dd>{k.online ? "now" : <When ts={k.lastSeen} none="never" />}</dd>
      </dl>
      <p>
        <a href={`/chats/${seg(k.name)}`}>Open the chat with {k.name}</a>
        {" · "}
        <a href={`/contacts/${seg(k.name)}/verify`}>Verify {k.name}'s safety number</a>
      </p>
    </li>
  );
}

/** The step before removing or blocking: what it does, and the one button that does it. */
function ConfirmPage(props: { me: StatusView; contact: ContactView; action: "remove" | "block" }) {
  const { me, contact: k, action } = props;
  const verb = action === "remove" ? "Remove" : "Block";
  return (
    <Layout title={`${verb} ${k.name}?`} status={me} section="contacts">
      <h1>{verb} {k.name}?</h1>
      <p class="contact-fp mono">{k.fingerprint}</p>
      <p data-consequence>{CONSEQUENCE[action](k.name)}</p>
      <form method="post" action={`/contacts/${action}`} class="row" data-confirm={action}>
        <input type="hidden" name="name" value={k.name} />
        <button type="submit" class="danger">Yes, {action} {k.name}</button>
        <a href="/contacts">Cancel</a>
      </form>
    </Layout>
  );
}

function InviteForms(props: { pasted?: string | undefined }) {
  return (
    <>
      <h2 id="invite">Invite someone</h2>
      <form method="post" action="/contacts/invite">
        <div class="row">
          <div class="grow">
            <label for="expiresIn">Valid for</label>
            <select id="expiresIn" name="expiresIn">
              <option value="3600">1 hour</option>
              <option value="86400" selected>1 day</option>
              <option value="604800">7 days</option>
            </select>
          </div>
          <div class="grow">
            <label for="uses">How many people may use it</label>
            <input id="uses" name="uses" type="number" min={1} max={100} value="1" required />
          </div>
          <button type="submit">Create an invite</button>
        </div>
      </form>
      <h2 id="add">Add from invite</h2>
      <form method="post" action="/contacts/preview">
        <label for="invite-text">Invite (starts with roj1:)</label>
        <textarea
          id="invite-text"
          name="invite"
          rows={3}
          class="mono"
          required
          maxLength={4096}
          spellcheck={false}
          value={props.pasted ?? ""}
        />
        <p>
          <button type="submit">Preview</button>
        </p>
      </form>
    </>
  );
}

export function contactPages(ctx: AdminContext): Hono {
  const app = new Hono();
  const status = () => ctx.api.call("status", {});

  const list = async (
    c: Context,
    extra: { error?: string; notice?: string; pasted?: string; code?: ContentfulStatusCode } = {},
  ) => {
    const me = await status();
    const contacts = await callNode(ctx.api, "contacts", {}) as ContactView[];
    const peers = await callNode(ctx.api, "peers", {}) as PeerView[];
    const byFp = new Map(peers.map((p) => [p.fingerprint, p]));
    return html(
      c,
      <Layout
        title="Contacts"
        status={me}
        section="contacts"
        error={extra.error}
        notice={extra.notice}
      >
        <h1>{me.passive ? "Members" : "Contacts"}</h1>
        {!me.passive && contacts.length > 0 && !peers.some((p) => p.state === "connected") && (
          <NobodyReachable />
        )}
        {contacts.length === 0
          ? <p class="muted">No contacts yet: invite someone, or add someone from their invite.</p>
          : (
            <ul class="cards">
              {contacts.map((k) => (
                <ContactCard key={k.fingerprint} contact={k} peer={byFp.get(k.fingerprint)} />
              ))}
            </ul>
          )}
        {!me.passive && (
          <p>
            <a href="/introductions">Introductions: introduce, share a card…</a>
          </p>
        )}
        <InviteForms pasted={extra.pasted} />
      </Layout>,
      extra.code ?? 200,
    );
  };

  app.get("/contacts", (c) => {
    const done = c.req.query("done");
    const name = c.req.query("name") ?? "";
    const say = done && Object.hasOwn(DONE, done) ? DONE[done]!(name.slice(0, 40)) : undefined;
    return list(c, say ? { notice: say } : {});
  });

  for (const action of ["remove", "block"] as const) {
    app.get(`/contacts/:name/${action}`, async (c) => {
      const name = c.req.param("name");
      const contacts = await callNode(ctx.api, "contacts", {}) as ContactView[];
      const contact = contacts.find((k) => k.name === name);
      if (!contact) {
        return list(c, { error: `You have no contact called "${name.slice(0, 40)}".`, code: 404 });
      }
      return html(c, <ConfirmPage me={await status()} contact={contact} action={action} />);
    });
  }

  for (const method of ["rename", "remove", "block"] as const) {
    app.post(`/contacts/${method}`, async (c) => {
      const form = method === "rename"
        ? await readForm(c, forms.rename)
        : await readForm(c, forms.contact);
      if (!form.ok) return list(c, { error: form.error, code: 400 });
      try {
        const res = await callNode(ctx.api, method, form.data) as ContactView;
        const name = method === "rename" ? res.name : form.data.name;
        const done = { rename: "renamed", remove: "removed", block: "blocked" }[method];
        return c.redirect(`/contacts?done=${done}&name=${seg(name)}`, 303);
      } catch (err) {
        const { status, body } = apiError(err, ctx.log, method);
        return list(c, { error: body.error.message, code: status });
      }
    });
  }

  app.post("/contacts/connect", async (c) => {
    const form = await readForm(c, forms.connect);
    if (!form.ok) return list(c, { error: form.error, code: 400 });
    try {
      const res = await callNode(ctx.api, "connect", form.data) as ContactView;
      return c.redirect(`/contacts?done=connected&name=${seg(res.name)}`, 303);
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "connect");
      return list(c, { error: body.error.message, code: status });
    }
  });

  app.post("/contacts/invite", async (c) => {
    const form = await readForm(c, forms.invite);
    if (!form.ok) return list(c, { error: form.error, code: 400 });
    let invite: InviteView;
    try {
      invite = await callNode(ctx.api, "invite", form.data) as InviteView;
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "invite");
      return list(c, { error: body.error.message, code: status });
    }
    const me = await status();
    return html(
      c,
      <Layout title="Invite" status={me} section="contacts">
        <h1>Your invite</h1>
        <p>
          Give this to the person you want to add, by a channel you trust. It is valid until{" "}
          <time dateTime={isoTime(invite.expires)}>{formatTime(invite.expires)}</time> for{" "}
          {form.data.uses} {form.data.uses === 1 ? "person" : "people"}, and names you as{" "}
          <strong>{me.name}</strong> (<span class="mono">{me.fingerprint}</span>).
        </p>
        <label for="invite-out">Invite text</label>
        <textarea id="invite-out" class="mono" rows={6} readOnly data-invite value={invite.text} />
        <div class="buttons">
          <Island component={CopyButton} props={{ text: invite.text, label: "Copy the invite" }} />
        </div>
        <QrCode text={invite.text} label="The invite as a QR code" />
        <p class="muted">
          Reachable at: <span class="mono">{invite.addresses.join(", ")}</span>
        </p>
        <p>
          <a href="/contacts">Back to contacts</a>
        </p>
      </Layout>,
    );
  });

  const preview = async (
    c: Context,
    me: StatusView,
    text: string,
    extra: { error?: string; name?: string; code?: ContentfulStatusCode } = {},
  ) => {
    let invite;
    try {
      invite = await parseInvite(text, Date.now());
    } catch (err) {
      if (!isRojError(err)) throw err;
      return list(c, { error: err.message, pasted: text, code: 400 });
    }
    const fp = fingerprint(invite.publicKey);
    const known = (await callNode(ctx.api, "contacts", {}) as ContactView[])
      .find((k) => k.fingerprint === fp);
    const own = fp === me.fingerprint;
    return html(
      c,
      <Layout title="Add from invite" status={me} section="contacts" error={extra.error}>
        <h1>Add {invite.name}?</h1>
        <dl class="facts" data-preview>
          <dt>Name</dt>
          <dd>{invite.name}</dd>
          <dt>Fingerprint</dt>
          <dd class="mono" data-fingerprint>{fp}</dd>
          <dt>Addresses</dt>
          <dd class="mono">{invite.addresses.join(", ") || "none"}</dd>
          <dt>Valid until</dt>
          <dd>
            <time dateTime={isoTime(invite.expires)}>{formatTime(invite.expires)}</time>
          </dd>
        </dl>
        <p class="muted">
          Compare the fingerprint with the one they see under Identity, by a channel you trust.
        </p>
        {own && <p class="error" role="alert">This is your own invite.</p>}
        {known && (
          <p class="notice" role="status">
            This is already your contact {known.name}.
          </p>
        )}
        {!own && (
          <form method="post" action="/contacts/add">
            <input type="hidden" name="invite" value={text} />
            <label for="add-name">Name them</label>
            <input
              id="add-name"
              name="name"
              type="text"
              maxLength={40}
              value={extra.name ?? invite.name}
            />
            <p class="row">
              <button type="submit">Accept and add {invite.name}</button>
              <a href="/contacts">Cancel</a>
            </p>
          </form>
        )}
      </Layout>,
      extra.code ?? 200,
    );
  };

  app.post("/contacts/preview", async (c) => {
    const form = await readForm(c, forms.preview);
    if (!form.ok) {
      return list(c, { error: form.error, pasted: form.values.invite ?? "", code: 400 });
    }
    return preview(c, await status(), form.data.invite);
  });

  app.post("/contacts/add", async (c) => {
    const form = await readForm(c, forms.add);
    if (!form.ok) {
      if (!form.values.invite) return list(c, { error: form.error, code: 400 });
      return preview(c, await status(), form.values.invite, {
        error: form.error,
        name: form.values.name ?? "",
        code: 400,
      });
    }
    try {
      const added = await callNode(ctx.api, "add", {
        invite: form.data.invite,
        ...(form.data.name !== undefined ? { name: form.data.name } : {}),
      }) as ContactView;
      return c.redirect(`/contacts?done=added&name=${seg(added.name)}`, 303);
    } catch (err) {
      const { status: code, body } = apiError(err, ctx.log, "add");
      return preview(c, await status(), form.data.invite, {
        error: body.error.message,
        name: form.data.name ?? "",
        code,
      });
    }
  });

  return app;
}
