/**
 * Introductions in the web admin, in a real browser (Debian's chromium via
 * playwright-core), three real nodes: alice introduces bob and carol from her
 * admin, carol declines in hers; alice makes a card of bob (text and QR code),
 * carol imports it, bob accepts, and they are contacts. Screenshots go to
 * test-artifacts/admin/.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { befriend, startTestNode, until } from "../testing/nodes.ts";
import { startAdmin } from "../routes/mod.ts";
import { HAVE_CHROMIUM, launchChromium, screenshot, watchProblems } from "../testing/browser.ts";
import type { NodeEvent } from "../node/api/mod.ts";

const intro = (op: string) => (e: NodeEvent) => e.type === "introduction" && e.op === op;

Deno.test({
  name: "admin in a browser: introduce two contacts, decline; share a card, import it, accept",
  ignore: !HAVE_CHROMIUM,
}, async () => {
  await using a = await startTestNode("alice", { host: "127.0.48.2", quic: false });
  await using b = await startTestNode("bob", { host: "127.0.48.3", quic: false });
  await using c = await startTestNode("carol", { host: "127.0.48.4", quic: false });
  await befriend(a, b);
  await befriend(a, c);
  const adminA = await startAdmin({ api: a.node, host: "127.0.48.2", port: 0 });
  const adminC = await startAdmin({ api: c.node, host: "127.0.48.4", port: 0 });
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    browser = await launchChromium();
    const pageOf = async (width: number) => {
      const context = await browser!.newContext({ viewport: { width, height: 800 } });
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      watchProblems(page, problems);
      return page;
    };
    const pageA = await pageOf(1000);
    const pageC = await pageOf(390);
    const shot = screenshot;

    // alice: Contacts → Introductions → introduce bob to carol.
    await pageA.goto(adminA.url);
    await pageA.getByRole("link", { name: "Contacts" }).click();
    await pageA.getByRole("link", { name: /^Introductions/ }).click();
    await pageA.getByRole("heading", { name: "Introductions" }).waitFor();
    await pageA.getByLabel("Introduce", { exact: true }).selectOption("bob");
    await pageA.getByLabel("to", { exact: true }).selectOption("bob");
    await pageA.getByRole("button", { name: "Introduce…" }).click();
    await pageA.getByText("Pick two different contacts.").waitFor();
    await pageA.getByLabel("to", { exact: true }).selectOption("carol");
    await pageA.getByRole("button", { name: "Introduce…" }).click();
    await pageA.getByText("Introduced bob and carol.", { exact: false }).waitFor();
    await shot(pageA, "introductions-introduced");

    // carol sees it and declines.
    await c.waitFor(intro("offered"));
    await pageC.goto(adminC.url);
    await pageC.goto(new URL("/introductions", adminC.origin).href);
    await pageC.getByRole("heading", { name: "alice introduces bob" }).waitFor();
    await pageC.getByText(b.node.fingerprint).waitFor();
    await shot(pageC, "introductions-waiting");
    await pageC.getByRole("button", { name: "Decline bob" }).click();
    await pageC.getByText(/^Declined\./).waitFor();
    await b.waitFor(intro("declined"));

    // alice makes a card of bob: text and QR code.
    await pageA.getByLabel("A card of").selectOption("bob");
    await pageA.getByRole("button", { name: "Make a card" }).click();
    await pageA.getByRole("heading", { name: "A card of bob" }).waitFor();
    await pageA.getByRole("img", { name: "The card as a QR code" }).waitFor();
    const text = await pageA.locator("[data-card]").inputValue();
    assert.match(text, /^rojcard1:/);
    await shot(pageA, "introductions-card");

    // carol imports it; bob accepts; they are contacts.
    await pageC.getByLabel("Card (starts with rojcard1: or rojcard2:)").fill(
      text.slice(0, -4) + "AAAA",
    );
    await pageC.getByRole("button", { name: "Ask for the introduction" }).click();
    await pageC.locator("[role=alert]").waitFor();
    await pageC.getByLabel("Card (starts with rojcard1: or rojcard2:)").fill(text);
    await pageC.getByRole("button", { name: "Ask for the introduction" }).click();
    await pageC.getByText(/^Asked for an introduction to bob\./).waitFor();
    await pageC.getByText("You accepted; waiting for bob.").waitFor();
    await shot(pageC, "introductions-asked");
    await b.waitFor((e) => intro("offered")(e) && e.type === "introduction" && e.peer === "carol");
    const [offer] = await b.node.call("introductions", {});
    await b.node.call("accept", { id: offer!.id });
    await until(
      async () => (await c.node.call("contacts", {})).some((k) => k.name === "bob" && k.online),
      10_000,
      "carol reaches bob",
    );
    await pageC.reload();
    await pageC.getByText("No introductions are waiting.").waitFor();

    // alice's own card.
    await pageA.goto(new URL("/introductions", adminA.origin).href);
    await pageA.getByLabel("A card of").selectOption({
      label: "yourself",
    });
    await pageA.getByRole("button", { name: "Make a card" }).click();
    await pageA.getByRole("heading", { name: "A card of alice" }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await adminA.close();
    await adminC.close();
  }
});
