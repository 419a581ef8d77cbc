/**
 * Group membership in the admin, without JavaScript: found a group (from the
 * chat list), and on a group's members page see who is in it, add contacts,
 * remove members (admins), promote, and leave.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type {
  ContactView,
  GroupStateView,
  GroupView,
  MemberView,
  StatusView,
} from "../../node/mod.ts";
import { apiError, callNode } from "../api.ts";
import { type AdminContext, seg } from "../context.ts";
import { forms, readForm } from "../forms.ts";
import { html, Layout } from "../layout.tsx";
import { Avatar } from "../../islands/_avatar.tsx";

const DONE: Record<string, (who: string) => string> = {
  created: () => "Group created. Add members below.",
  added: (n) => `Added ${n}. They see the group when their node next talks to a member.`,
  removed: (n) => `Removed ${n}. They can read nothing written from now on.`,
  promoted: (n) => `${n} is now an admin.`,
};

function MemberRow(props: { group: string; m: MemberView; iAmAdmin: boolean }) {
  const { m, group, iAmAdmin } = props;
  return (
    <li class="card" data-member={m.name}>
      <div class="member-head">
        <Avatar seed={m.fingerprint} />
        <div class="contact-who">
          <h3>
            {m.name}
            {m.me ? " (you)" : ""} {m.admin && <span class="muted" data-admin="true">admin</span>}
          </h3>
          <p class="contact-fp mono" data-fingerprint>{m.fingerprint}</p>
        </div>
      </div>
      {iAmAdmin && !m.me && (
        <div class="buttons">
          <a
            href={`/chats/${seg(group)}/members/remove?member=${encodeURIComponent(m.name)}`}
            class="danger-link"
          >
            Remove {m.name}…
          </a>
          {!m.admin && (
            <form method="post" action={`/chats/${seg(group)}/members/promote`} class="inline">
              <input type="hidden" name="member" value={m.name} />
              <button type="submit" class="secondary">Make {m.name} an admin</button>
            </form>
          )}
        </div>
      )}
    </li>
  );
}

/** The step before removing a member: what it does, and the one button that does it. */
function ConfirmRemove(props: { me: StatusView; group: string; member: MemberView }) {
  const { me, group, member: m } = props;
  return (
    <Layout title={`Remove ${m.name}?`} status={me} section="chats">
      <h1>Remove {m.name} from {group}?</h1>
      <p class="contact-fp mono">{m.fingerprint}</p>
      <p data-consequence>
        {m.name} will read nothing written in {group}{" "}
        from now on; what they have already read stays with them. An admin can add them again.
      </p>
      <form
        method="post"
        action={`/chats/${seg(group)}/members/remove`}
        class="row"
        data-confirm="remove"
      >
        <input type="hidden" name="member" value={m.name} />
        <button type="submit" class="danger">Yes, remove {m.name}</button>
        <a href={`/chats/${seg(group)}/members`}>Cancel</a>
      </form>
    </Layout>
  );
}

/** What a group's chat says instead of the composer once this node is out of it. */
export function goneText(state: GroupStateView): string {
  return state.departed === "removed"
    ? `You were removed from ${state.name}${state.by ? ` by ${state.by}` : ""}.`
    : `You left ${state.name}.`;
}

/**
 * Said on a group's chat and members pages once this node is out of it: you
 * were removed (or left), no composer, and the button that deletes the group
 * from the list (its history stays readable by name).
 */
export function GroupGone(props: { state: GroupStateView }) {
  const { state } = props;
  return (
    <section class="warning" role="status" data-group-gone={state.departed ?? "out"}>
      <p>
        <strong>{goneText(state)}</strong>{" "}
        You can read what was written while you were in it, but not write.
      </p>
      {!state.hidden && (
        <form method="post" action={`/chats/${seg(state.name)}/forget`}>
          <button type="submit" class="danger">Delete {state.name} from your list</button>
        </form>
      )}
    </section>
  );
}

/** Founding a group: its name. Shown under the chat list. */
export function NewGroupForm(props: { value?: string }) {
  return (
    <form method="post" action="/groups/new" class="row">
      <div class="grow">
        <label for="group-name">Name of the new group</label>
        <input
          id="group-name"
          name="name"
          required
          maxLength={64}
          placeholder="climbers"
          value={props.value ?? ""}
        />
      </div>
      <button type="submit">Create the group</button>
    </form>
  );
}

export function groupPages(ctx: AdminContext): Hono {
  const app = new Hono();
  const status = () => ctx.api.call("status", {});

  const members = async (
    c: Context,
    me: StatusView,
    name: string,
    extra: { error?: string; notice?: string; code?: ContentfulStatusCode } = {},
  ): Promise<Response> => {
    let list: MemberView[];
    try {
      list = await callNode(ctx.api, "group.members", { group: name }) as MemberView[];
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "group.members");
      return html(
        c,
        <Layout title="Group" status={me} section="chats" error={body.error.message}>
          <h1>Group not found</h1>
          <p>
            <a href="/chats">All chats</a>
          </p>
        </Layout>,
        status,
      );
    }
    const mine = list.find((m) => m.me);
    const gone = mine
      ? null
      : await callNode(ctx.api, "group.state", { group: name }) as GroupStateView;
    const iAmAdmin = mine?.admin ?? false;
    const inGroup = new Set(list.map((m) => m.fingerprint));
    const candidates = (await callNode(ctx.api, "contacts", {}) as ContactView[])
      .filter((k) => !inGroup.has(k.fingerprint));
    return html(
      c,
      <Layout
        title={`${name}: members`}
        status={me}
        section="chats"
        error={extra.error}
        notice={extra.notice}
      >
        <h1>{name}: members</h1>
        {gone && <GroupGone state={gone} />}
        <ul class="cards" aria-label="Members">
          {list.map((m) => (
            <MemberRow
              key={m.fingerprint}
              group={name}
              m={m}
              iAmAdmin={iAmAdmin}
            />
          ))}
        </ul>
        {iAmAdmin && (
          candidates.length > 0
            ? (
              <form method="post" action={`/chats/${seg(name)}/members/add`} class="row">
                <div class="grow">
                  <label for="member">Add a contact</label>
                  <select id="member" name="member" required>
                    {candidates.map((k) => <option key={k.name} value={k.name}>{k.name}</option>)}
                  </select>
                </div>
                <button type="submit">Add to {name}</button>
              </form>
            )
            : <p class="muted">Every contact of yours is in this group.</p>
        )}
        {mine && (
          <form method="post" action={`/chats/${seg(name)}/leave`}>
            <button type="submit" class="danger">Leave {name}</button>
          </form>
        )}
        <p>
          <a href={`/chats/${seg(name)}`}>Back to the chat</a> · <a href="/chats">All chats</a>
        </p>
      </Layout>,
      extra.code ?? 200,
    );
  };

  app.get("/chats/:name/members", async (c) => {
    const me = await status();
    if (me.passive) return c.redirect("/anchor", 303);
    const done = c.req.query("done");
    const who = c.req.query("who") ?? "";
    const notice = done && Object.hasOwn(DONE, done) ? DONE[done]!(who.slice(0, 40)) : undefined;
    return members(c, me, c.req.param("name"), notice ? { notice } : {});
  });

  app.get("/chats/:name/members/remove", async (c) => {
    const me = await status();
    const name = c.req.param("name");
    const wanted = c.req.query("member") ?? "";
    let list: MemberView[];
    try {
      list = await callNode(ctx.api, "group.members", { group: name }) as MemberView[];
    } catch {
      return members(c, me, name);
    }
    const member = list.find((m) => m.name === wanted && !m.me);
    if (!member) {
      return members(c, me, name, {
        error: `${wanted.slice(0, 40)} is not a member of ${name}.`,
        code: 404,
      });
    }
    return html(c, <ConfirmRemove me={me} group={name} member={member} />);
  });

  app.post("/groups/new", async (c) => {
    const form = await readForm(c, forms.groupNew);
    const fail = async (error: string, code: ContentfulStatusCode) =>
      html(
        c,
        <Layout title="New group" section="chats" status={await status()} error={error}>
          <h1>New group</h1>
          <NewGroupForm value={form.values.name ?? ""} />
          <p>
            <a href="/chats">All chats</a>
          </p>
        </Layout>,
        code,
      );
    if (!form.ok) return fail(form.error, 400);
    try {
      const g = await callNode(ctx.api, "group.create", { name: form.data.name }) as GroupView;
      return c.redirect(`/chats/${seg(g.name)}/members?done=created`, 303);
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "group.create");
      return fail(body.error.message, status);
    }
  });

  for (const op of ["add", "remove", "promote"] as const) {
    app.post(`/chats/:name/members/${op}`, async (c) => {
      const me = await status();
      const name = c.req.param("name");
      const form = await readForm(c, forms.member);
      if (!form.ok) return members(c, me, name, { error: form.error, code: 400 });
      try {
        if (op === "add") {
          await callNode(ctx.api, "group.add", { group: name, members: [form.data.member] });
        } else await callNode(ctx.api, `group.${op}`, { group: name, member: form.data.member });
      } catch (err) {
        const { status, body } = apiError(err, ctx.log, `group.${op}`);
        return members(c, me, name, { error: body.error.message, code: status });
      }
      const done = op === "add" ? "added" : op === "remove" ? "removed" : "promoted";
      return c.redirect(
        `/chats/${seg(name)}/members?done=${done}&who=${encodeURIComponent(form.data.member)}`,
        303,
      );
    });
  }

  // Leaving shows the members page again; deleting from the list (once out) goes to the chats.
  for (const op of ["leave", "forget"] as const) {
    app.post(`/chats/:name/${op}`, async (c) => {
      const me = await status();
      const name = c.req.param("name");
      const form = await readForm(c, forms.leave);
      if (!form.ok) return members(c, me, name, { error: form.error, code: 400 });
      try {
        await callNode(ctx.api, `group.${op}`, { group: name });
      } catch (err) {
        const { status, body } = apiError(err, ctx.log, `group.${op}`);
        return members(c, me, name, { error: body.error.message, code: status });
      }
      return c.redirect(op === "leave" ? `/chats/${seg(name)}/members` : "/chats", 303);
    });
  }

  return app;
}
