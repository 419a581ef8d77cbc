/** Identity: my key line and fingerprint, the data folder, and my public key as a .pub file. */
import { Hono } from "hono";
import { formatTime } from "../../islands/_format.ts";
import { CopyButton } from "../../islands/copy_button.tsx";
import type { PortMapView } from "../../node/mod.ts";
import type { AdminContext } from "../context.ts";
import { html, Island, Layout } from "../layout.tsx";

/**
 * The router's port mapping in a line: "UPnP-IGD 203.0.113.5:7022 (TCP, UDP) →
 * 192.168.1.20:7022 by 192.168.1.1, renewed 14:05", or "off (--no-upnp)".
 */
export function portMapLine(p: PortMapView | undefined): string {
  if (!p) return "not reported by this node";
  const why = p.reason ? ` (${p.reason})` : "";
  if (p.state === "off") return `off${why}`;
  if (p.state === "none") return `none${why}`;
  if (p.state === "searching") return "looking for a UPnP-IGD / NAT-PMP router";
  const renewed = p.renewedAt === undefined ? "" : `, renewed ${formatTime(p.renewedAt)}`;
  return `${p.method === "nat-pmp" ? "NAT-PMP" : "UPnP-IGD"} ${p.external ?? "?"} (${
    (p.protocols ?? []).join(", ").toUpperCase()
  }) → ${p.internal ?? "?"} by ${p.gateway ?? "?"}${renewed}${p.reason ? `; ${p.reason}` : ""}`;
}

/** A file name made of the node's name, or "roj". */
export function pubFileName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "").slice(0, 40);
  return `${safe || "roj"}.pub`;
}

export function identityPages(ctx: AdminContext): Hono {
  const app = new Hono();

  app.get("/identity", async (c) => {
    const me = await ctx.api.call("status", {});
    return html(
      c,
      <Layout title="Identity" status={me} section="identity">
        <h1>Identity</h1>
        <dl class="facts">
          <dt>Name</dt>
          <dd>{me.name}</dd>
          <dt>Fingerprint</dt>
          <dd class="mono" data-fingerprint>{me.fingerprint}</dd>
          <dt>Data folder</dt>
          <dd class="mono">{me.dataDir}</dd>
          <dt>Listening</dt>
          <dd class="mono">{me.listen.join(", ") || "not listening"}</dd>
          <dt>Port mapping</dt>
          <dd data-port-map>{portMapLine(me.portMap)}</dd>
          <dt>Role</dt>
          <dd>{me.passive ? "passive anchor" : "person"}</dd>
          <dt>Version</dt>
          <dd>{me.version}</dd>
        </dl>
        <label for="key-line">Public key (OpenSSH)</label>
        <textarea id="key-line" class="mono" rows={3} readOnly value={me.publicKey} />
        <div class="buttons">
          <Island component={CopyButton} props={{ text: me.publicKey, label: "Copy the key" }} />
          <a class="button" href="/identity/key.pub" download={pubFileName(me.name)}>
            Download {pubFileName(me.name)}
          </a>
        </div>
        <p>
          <a href="/receipts">Read receipts</a>
        </p>
        <p class="muted">
          Anyone can check your signed messages with this key and{" "}
          <code>ssh-keygen -Y verify</code>. Your private key stays in the data folder and never
          leaves this machine.
        </p>
      </Layout>,
    );
  });

  app.get("/identity/key.pub", async (c) => {
    const me = await ctx.api.call("status", {});
    return c.body(`${me.publicKey}\n`, 200, {
      "Content-Type": "text/plain; charset=utf-8",
      "Content-Disposition": `attachment; filename="${pubFileName(me.name)}"`,
    });
  });

  return app;
}
