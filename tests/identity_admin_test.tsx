/** The admin's identity banner: on every page while this identity also writes on another node. */
import assert from "node:assert/strict";
import { render } from "preact-render-to-string";
import { Layout } from "../routes/layout.tsx";
import type { StatusView } from "../node/mod.ts";

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

Deno.test("admin: an identity conflict is a banner on every page, peer text escaped", () => {
  const message = "this identity is also running on another node: <b>bob</b> holds another entry #2";
  const status: StatusView = {
    ...base,
    identity: { conflict: { role: "second", writesRefused: true, message, chats: [] }, rebasing: [] },
  };
  const page = render(<Layout title="Chats" status={status} section="chats">x</Layout>);
  assert.match(page, /data-identity-conflict="second"/);
  assert.match(page, /&lt;b>bob&lt;\/b> holds another entry #2/);
  assert.ok(!page.includes("<b>bob</b>"));
  const calm = render(<Layout title="Chats" status={base} section="chats">x</Layout>);
  assert.ok(!calm.includes("data-identity-conflict"));
});
