/**
 * Your devices, without JavaScript: the list (name, fingerprint, certified
 * since, valid until, last seen, online), linking a new one (the one-time
 * code as text and as a QR code, then its fingerprint to compare once it
 * joined), and removing one after a confirmation page.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { DeviceView, LinkCodeView, StatusView } from "../../node/mod.ts";
import { CopyButton } from "../../islands/copy_button.tsx";
import { formatTime, isoTime } from "../../islands/_format.ts";
import { apiError, callNode } from "../api.ts";
import type { AdminContext } from "../context.ts";
import { forms, readForm } from "../forms.ts";
import { html, Island, Layout } from "../layout.tsx";
import { QrCode } from "../qr.tsx";
import { When } from "./contacts.tsx";

/** Devices linked this long ago or less are marked new: compare their fingerprint. */
const NEW_MS = 15 * 60_000;

function validity(d: DeviceView) {
  if (d.standing === "revoked") return <>removed</>;
  if (d.standing === "person") return <>holds the person key</>;
  if (d.validUntil === null) return <>valid forever</>;
  const what = d.standing === "valid" ? "until" : d.standing.replace(/_/g, " ");
  return (
    <>
      {what} <When ts={d.validUntil} none="" />
      {d.renewalDue && (
        <>
          {" "}
          <strong>(renewal due)</strong>
        </>
      )}
    </>
  );
}

function DeviceCard(props: { d: DeviceView; canRemove: boolean; now: number }) {
  const { d } = props;
  const fresh = !d.self && props.now - d.certifiedSince < NEW_MS && d.standing === "valid";
  return (
    <li class="card" data-device={d.name}>
      <h3>
        {d.name}
        {d.self ? " (this device)" : ""}
        {fresh && (
          <>
            {" "}
            <span class="muted" data-new="true">new: compare its fingerprint</span>
          </>
        )}
      </h3>
      <dl class="facts">
        <dt>Fingerprint</dt>
        <dd class="mono" data-fingerprint>{d.fingerprint}</dd>
        <dt>Certified since</dt>
        <dd>
          <When ts={d.certifiedSince} none="—" />
        </dd>
        <dt>Valid</dt>
        <dd>{validity(d)}</dd>
        {!d.self && (
          <>
            <dt>Last seen</dt>
            <dd>{d.online ? "now" : <When ts={d.lastSeen} none="never" />}</dd>
            <dt>Online</dt>
            <dd>{d.online ? "online" : "offline"}</dd>
          </>
        )}
      </dl>
      {d.renewalBlocked !== null && (
        <p class="error" role="alert">
          Its certificate is due for renewal, but the person key is not at hand: {d.renewalBlocked}
        </p>
      )}
      {props.canRemove && d.standing !== "revoked" && (
        <form method="get" action="/devices/remove" class="inline">
          <input type="hidden" name="name" value={d.name} />
          <button type="submit" class="danger">Remove {d.name}…</button>
        </form>
      )}
    </li>
  );
}

export function devicePages(ctx: AdminContext): Hono {
  const app = new Hono();
  const status = () => ctx.api.call("status", {});
  const devices = () => callNode(ctx.api, "devices", {}) as Promise<DeviceView[]>;

  const list = async (
    c: Context,
    extra: { error?: string; notice?: string; code?: ContentfulStatusCode } = {},
  ): Promise<Response> => {
    const me = await status();
    if (me.passive) return c.redirect("/anchor", 303);
    const rows = await devices();
    const onDevice = rows.some((d) => d.self);
    const now = Date.now();
    return html(
      c,
      <Layout
        title="Devices"
        status={me}
        section="devices"
        error={extra.error}
        notice={extra.notice}
      >
        <h1>Devices</h1>
        {onDevice
          ? (
            <p class="muted">
              This node is a device of yours, certified by your person key. Link and remove devices
              from the node that holds that key.
            </p>
          )
          : (
            <p class="muted">
              Your key certifies each device of yours; your contacts take any of them as you.
            </p>
          )}
        {rows.length === 0
          ? <p>No devices linked yet.</p>
          : (
            <ul class="cards" aria-label="Your devices">
              {rows.map((d) => (
                <DeviceCard key={d.fingerprint} d={d} canRemove={!onDevice} now={now} />
              ))}
            </ul>
          )}
        {!onDevice && (
          <form method="post" action="/devices/link">
            <button type="submit">Link a new device</button>
          </form>
        )}
      </Layout>,
      extra.code ?? 200,
    );
  };

  app.get("/devices", (c) => {
    const done = c.req.query("done");
    const who = (c.req.query("who") ?? "").slice(0, 32);
    return list(
      c,
      done === "removed" ? { notice: `Removed ${who}: your contacts refuse it from now on.` } : {},
    );
  });

  app.post("/devices/link", async (c) => {
    const form = await readForm(c, forms.deviceLink);
    if (!form.ok) return list(c, { error: form.error, code: 400 });
    let code: LinkCodeView;
    try {
      code = await callNode(ctx.api, "device.link", {}) as LinkCodeView;
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "device.link");
      return list(c, { error: body.error.message, code: status });
    }
    const me = await status();
    const command = `roj init --data ~/roj --join '${code.text}' --name phone`;
    return html(c, <LinkCodePage me={me} code={code} command={command} />);
  });

  app.get("/devices/remove", async (c) => {
    const me = await status();
    const name = c.req.query("name") ?? "";
    const d = (await devices()).find((x) => x.name === name && !x.self);
    if (!d || d.standing === "revoked") {
      return list(c, { error: "No linked device has that name.", code: 404 });
    }
    return html(
      c,
      <Layout title={`Remove ${d.name}`} status={me} section="devices">
        <h1>Remove {d.name}?</h1>
        <p>
          <span class="mono">{d.fingerprint}</span>
        </p>
        <p>
          Your key signs a revocation: your contacts refuse this device from then on, also after it
          is back online. This cannot be undone; to use the device again, link it anew.
        </p>
        <div class="row">
          <form method="post" action="/devices/remove" class="inline">
            <input type="hidden" name="name" value={d.name} />
            <input type="hidden" name="confirm" value="yes" />
            <button type="submit" class="danger">Yes, remove {d.name}</button>
          </form>
          <a href="/devices">No, keep it</a>
        </div>
      </Layout>,
    );
  });

  app.post("/devices/remove", async (c) => {
    const form = await readForm(c, forms.deviceRemove);
    if (!form.ok) return list(c, { error: form.error, code: 400 });
    try {
      await callNode(ctx.api, "device.remove", { name: form.data.name });
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "device.remove");
      return list(c, { error: body.error.message, code: status });
    }
    return c.redirect(`/devices?done=removed&who=${encodeURIComponent(form.data.name)}`, 303);
  });

  return app;
}

function LinkCodePage(props: { me: StatusView; code: LinkCodeView; command: string }) {
  const { me, code } = props;
  return (
    <Layout title="Link a device" status={me} section="devices">
      <h1>Link a new device</h1>
      <p>
        On the new device, run the command below (or scan the code into it). The code is valid until
        {" "}
        <time dateTime={isoTime(code.expires)}>{formatTime(code.expires)}</time>, once. Whoever sees
        it can link a device as yours until then.
      </p>
      <QrCode text={code.text} label="The link code as a QR code" />
      <label for="code-out">Link code</label>
      <textarea id="code-out" class="mono" rows={5} readOnly data-link-code value={code.text} />
      <div class="buttons">
        <Island component={CopyButton} props={{ text: code.text, label: "Copy the code" }} />
      </div>
      <label for="command-out">On the new device</label>
      <textarea id="command-out" class="mono" rows={3} readOnly value={props.command} />
      <p>
        The new device prints its fingerprint as it joins (<code>this device: SHA256:…</code>).
        Compare it with the one your devices list shows for it, marked new:
      </p>
      <p>
        <a href="/devices">It joined: show my devices</a>
      </p>
    </Layout>
  );
}
