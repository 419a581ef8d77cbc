/**
 * The identity guard's notice: one line in `roj status` and a banner on every
 * admin page, peer text escaped; `roj identity` and its help.
 */
import assert from "node:assert/strict";
import { render } from "preact-render-to-string";
import { identityText, statusLines } from "../cli/format.ts";
import type { StatusView } from "../node/mod.ts";
import { Layout } from "../routes/layout.tsx";
import { cliRun } from "../testing/cli_run.ts";

const base: StatusView = {
  name: "alice",
  publicKey: "ssh-ed25519 AAAA alice",
  fingerprint: "SHA256:x",
  dataDir: "/tmp/a",
  listen: [],
  contacts: 1,
  online: 1,
  version: "0.1.0",
};

Deno.test("roj status: an identity conflict is one line, a peer's name in it escaped", () => {
  const message = "this identity is also running on another node: \x1b[31mbob\n10:00 fake holds …";
  const s: StatusView = {
    ...base,
    identity: {
      conflict: { role: "second", writesRefused: true, message, chats: [] },
      rebasing: [],
    },
  };
  const lines = statusLines(s).join("\n").split("\n");
  const shown = lines.filter((l) => l.startsWith("identity: "));
  assert.equal(shown.length, 1);
  assert.ok(![...shown[0]!].some((c) => c.charCodeAt(0) < 0x20 || c === "\x7f"), shown[0]);
  assert.ok(!lines.some((l) => l.startsWith("10:00 fake")), "no forged line");
  assert.equal(statusLines(base).some((l) => l.startsWith("identity")), false, "none without one");
});

Deno.test("roj status: a re-base waiting says so; nothing on record says nothing", () => {
  assert.equal(identityText(undefined), null);
  assert.equal(identityText({ rebasing: [] }), null);
  assert.match(identityText({ rebasing: ["bob"] })!, /^re-basing bob: waiting/);
});

Deno.test("roj identity --help names resolve and status", async () => {
  const r = await cliRun(["identity", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /resolve/);
  assert.match(r.stdout, /status/);
});

Deno.test("admin: an identity conflict is a banner on every page, peer text escaped", () => {
  const message =
    "this identity is also running on another node: <b>bob</b> holds another entry #2";
  const status: StatusView = {
    ...base,
    identity: {
      conflict: { role: "second", writesRefused: true, message, chats: [] },
      rebasing: [],
    },
  };
  const page = render(<Layout title="Chats" status={status} section="chats">x</Layout>);
  assert.match(page, /data-identity-conflict="second"/);
  assert.match(page, /&lt;b>bob&lt;\/b> holds another entry #2/);
  assert.ok(!page.includes("<b>bob</b>"));
  const calm = render(<Layout title="Chats" status={base} section="chats">x</Layout>);
  assert.ok(!calm.includes("data-identity-conflict"));
});
