/** `roj status` and `roj identity`: the identity guard's one line, peer text escaped. */
import assert from "node:assert/strict";
import { identityText, statusLines } from "../cli/format.ts";
import type { StatusView } from "../node/mod.ts";
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
  assert.ok(!/[\x00-\x1f\x7f]/.test(shown[0]!), shown[0]);
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
