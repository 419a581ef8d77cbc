/**
 * The admin in a real browser (Debian's chromium via playwright-core), two
 * real nodes: invite on A's admin, preview and accept on B's, send from B's
 * page and watch it arrive on A's without a reload, a fork notice, rename,
 * the hive picture, and refusals (no token, a rebinding Host, a foreign
 * Origin). Screenshots of each page go to test-artifacts/admin/.
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startTestNode, type TestNode, until } from "../testing/nodes.ts";
import {
  HAVE_CHROMIUM,
  launchChromium,
  screenshot,
  watchedPage as watchedPageOf,
} from "../testing/browser.ts";
import { type AdminServer, startAdmin } from "../routes/mod.ts";
import { createEntry } from "../node/log/mod.ts";

async function launch(): Promise<Browser> {
  // A name that resolves to A's admin: what a DNS-rebinding page would use.
  return await launchChromium(["--host-resolver-rules=MAP rebind.test 127.0.0.2"]);
}

/** A page that fails the test on script errors; COOP is ignored (and said so) on rebind.test. */
function watchedPage(context: BrowserContext, problems: string[]): Promise<Page> {
  return watchedPageOf(context, problems, /Cross-Origin-Opener-Policy/);
}

const shot = screenshot;

/** Waits until the page's islands have hydrated and its event stream is open. */
async function live(page: Page): Promise<void> {
  await page.getByText("live", { exact: true }).waitFor({ timeout: 10_000 });
}

Deno.test({
  name: "admin in a browser: invite, accept, live chat, rename, hive, refusals",
  ignore: !HAVE_CHROMIUM,
}, async (t) => {
  const nodes: TestNode[] = [];
  const admins: AdminServer[] = [];
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    const a = await startTestNode("alice", { host: "127.0.0.2" });
    nodes.push(a);
    const b = await startTestNode("bob", { host: "127.0.0.3" });
    nodes.push(b);
    const adminA = await startAdmin({ api: a.node, host: "127.0.0.2", port: 0 });
    admins.push(adminA);
    const adminB = await startAdmin({ api: b.node, host: "127.0.0.3", port: 0 });
    admins.push(adminB);
    browser = await launch();
    const ctxA = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    const ctxB = await browser.newContext({
      viewport: { width: 390, height: 844 },
      colorScheme: "dark",
    });
    for (const ctx of [ctxA, ctxB]) ctx.setDefaultTimeout(10_000);
    const pageA = await watchedPage(ctxA, problems);
    const pageB = await watchedPage(ctxB, problems);

    let invite = "";
    await t.step("A: sign in with the printed URL, create an invite", async () => {
      await pageA.goto(adminA.url);
      assert.equal(new URL(pageA.url()).pathname, "/chats", "the token left the address bar");
      await pageA.getByRole("heading", { name: "Chats" }).waitFor();
      // No contacts yet: the empty pane says how to get one, rather than "pick a chat".
      await pageA.locator("[data-welcome]").getByRole("link", { name: "Invite someone" })
        .waitFor();
      await shot(pageA, "chats-empty");
      await pageA.getByRole("link", { name: "Contacts" }).click();
      await pageA.getByLabel("How many people may use it").fill("1");
      await pageA.getByRole("button", { name: "Create an invite" }).click();
      await pageA.getByRole("heading", { name: "Your invite" }).waitFor();
      invite = await pageA.locator("textarea[data-invite]").inputValue();
      assert.match(invite, /^roj1:[A-Za-z0-9_-]+$/);
      assert.ok(await pageA.getByRole("img", { name: "The invite as a QR code" }).isVisible());
      // An island's button: visible once the page's script hydrated it (not at once under load).
      await pageA.getByRole("button", { name: "Copy the invite" }).waitFor({ state: "visible" });
      await shot(pageA, "invite");
    });

    await t.step("B: paste the invite, preview who it is, accept", async () => {
      await pageB.goto(adminB.url);
      // On a phone too, below the list.
      await pageB.locator("[data-welcome]").getByRole("link", { name: "Invite someone" })
        .waitFor();
      await shot(pageB, "chats-empty-phone-dark");
      await pageB.goto(new URL("/contacts", adminB.origin).href);
      await pageB.getByLabel("Invite (starts with roj1:)").fill(invite);
      await pageB.getByRole("button", { name: "Preview" }).click();
      await pageB.getByRole("heading", { name: "Add alice?" }).waitFor();
      assert.equal(
        await pageB.locator("[data-preview] [data-fingerprint]").textContent(),
        a.node.fingerprint,
      );
      await shot(pageB, "add-preview");
      await pageB.getByRole("button", { name: "Accept and add alice" }).click();
      await pageB.getByText("Added alice. You can chat now.").waitFor();
      await pageB.locator('[data-contact="alice"] [data-online="true"]').waitFor();
      await shot(pageB, "contacts");
    });

    await t.step("B sends with Enter; A sees it live, without a reload", async () => {
      await pageA.goto(new URL("/chats/bob", adminA.origin).href);
      await live(pageA);
      await pageA.evaluate(() => ((globalThis as unknown as { same: number }).same = 42));
      await pageB.goto(new URL("/chats/alice", adminB.origin).href);
      await live(pageB);
      const box = pageB.getByRole("textbox", { name: "Message" });
      await box.fill("hello from bob");
      await box.press("Enter");
      // Delivered, or already read: A's open page marks it read, and a receipt comes back.
      await pageB.locator('.msg.mine:is([data-state="delivered"], [data-state="read"])', {
        hasText: "hello from bob",
      })
        .waitFor();
      assert.equal(await box.inputValue(), "", "the box is cleared");
      await pageA.locator(".msg", { hasText: "hello from bob" }).waitFor({ timeout: 10_000 });
      assert.equal(
        await pageA.evaluate(() => (globalThis as unknown as { same?: number }).same),
        42,
        "no reload",
      );
      // And back, typed into A's page with the keyboard only.
      await pageA.getByRole("textbox", { name: "Message" }).focus();
      await pageA.keyboard.type("hi bob, line one");
      await pageA.keyboard.press("Shift+Enter");
      await pageA.keyboard.type("line two");
      await pageA.keyboard.press("Enter");
      await pageB.locator(".msg .body", { hasText: "line two" }).waitFor();
      assert.equal(
        await pageB.locator(".msg .body", { hasText: "line two" }).textContent(),
        "hi bob, line one\nline two",
      );
      const bodies = await pageA.locator(".msg .body").allTextContents();
      assert.deepEqual(bodies, ["hello from bob", "hi bob, line one\nline two"]);
      await shot(pageA, "chat");
      await shot(pageB, "chat-phone-dark");
      await pageB.goto(new URL("/chats", adminB.origin).href);
      await pageB.locator('[data-chat="alice"]', { hasText: "line two" }).waitFor();
      await shot(pageB, "chats");
    });

    await t.step("the chat list updates live with unread counts", async () => {
      await live(pageB);
      await a.node.call("send", { chat: "bob", text: "are you there?" });
      await pageB.locator('[data-chat="alice"] [data-unread="1"]').waitFor();
      assert.match(
        await pageB.locator('[data-chat="alice"]').textContent() ?? "",
        /are you there\?/,
      );
    });

    await t.step(
      "A: a fork of bob's (two entries #1 signed by his key) is shown once",
      async () => {
        const chat = a.node.chat("bob").id;
        const first = (await a.node.log.read(chat)).find((e) => e.body === "hello from bob")!;
        const twin = await createEntry(b.node.signer, { ...first, body: "another hello" });
        await a.node.log.merge(chat, [{ signed: twin.signed, sig: twin.sig }]);
        await a.waitFor((e) => e.type === "fork");
        await pageA.goto(new URL("/chats/bob", adminA.origin).href);
        const notice = pageA.getByRole("alert").filter({ hasText: "two different entries #1" });
        await notice.waitFor();
        assert.match(
          await notice.textContent() ?? "",
          /^bob's node signed two different entries #1/,
        );
        assert.equal(await pageA.locator("[data-fork]").count(), 1);
        assert.equal(await pageA.locator(".msg .body", { hasText: "another hello" }).count(), 0);
        await shot(pageA, "chat-fork");
      },
    );

    await t.step("A renames bob, with the keyboard", async () => {
      await pageA.goto(new URL("/contacts", adminA.origin).href);
      await pageA.getByLabel("Actions for bob", { exact: true }).click(); // the contact's menu
      await pageA.getByLabel("New name for bob").focus();
      await pageA.keyboard.type("Bobby");
      await pageA.keyboard.press("Enter");
      await pageA.getByText("Renamed to Bobby.").waitFor();
      await pageA.getByRole("heading", { name: /^Bobby/ }).waitFor();
      assert.deepEqual((await a.node.call("contacts", {})).map((c) => c.name), ["Bobby"]);
      await shot(pageA, "contacts-renamed");
    });

    await t.step("the hive shows both nodes connected, directly", async () => {
      await pageA.goto(new URL("/hive", adminA.origin).href);
      await pageA.locator('line.edge[data-peer="Bobby"][data-path="direct"]').waitFor({
        state: "attached",
      });
      await pageA.getByRole("img", { name: "alice: Bobby connected directly." }).waitFor();
      await shot(pageA, "hive");
      await pageB.goto(new URL("/hive", adminB.origin).href);
      await pageB.locator('line.edge[data-peer="alice"][data-path="direct"]').waitFor({
        state: "attached",
      });
      await shot(pageB, "hive-phone-dark");
      // Live: B goes away, A's picture follows without a reload.
      await live(pageA);
      await b.stop();
      await pageA.locator('line.edge[data-peer="Bobby"]:not([data-path="direct"])').waitFor({
        state: "attached",
        timeout: 15_000,
      });
    });

    await t.step("identity page and the .pub download", async () => {
      await pageA.goto(new URL("/identity", adminA.origin).href);
      assert.equal(
        await pageA.locator("[data-fingerprint]").textContent(),
        a.node.fingerprint,
      );
      // A node started without port mapping says so (and why) next to where it listens.
      assert.equal(await pageA.locator("[data-port-map]").textContent(), "off (--no-upnp)");
      const [download] = await Promise.all([
        pageA.waitForEvent("download"),
        pageA.getByRole("link", { name: "Download alice.pub" }).click(),
      ]);
      assert.equal(download.suggestedFilename(), "alice.pub");
      const file = await download.path();
      assert.equal(await Deno.readTextFile(file), `${a.node.keyLine}\n`);
      await shot(pageA, "identity");
    });

    await t.step("a passive anchor shows its figures instead of chats", async () => {
      const anchor = await startTestNode("hive", { host: "127.0.0.4", passive: true });
      nodes.push(anchor);
      const adminC = await startAdmin({ api: anchor.node, host: "127.0.0.4", port: 0 });
      admins.push(adminC);
      await a.node.call("add", { invite: (await anchor.node.call("invite", {})).text });
      const pageC = await watchedPage(ctxA, problems);
      await pageC.goto(adminC.url);
      assert.equal(new URL(pageC.url()).pathname, "/anchor");
      // The anchor keeps no member's name: it shows the member's tag (contacts/member_ids.ts).
      const tag = anchor.node.contacts.get(a.node.publicKey)!.name;
      await pageC.locator(`[data-member="${tag}"]`).waitFor();
      assert.equal(await pageC.locator('[data-fact="members"]').textContent(), "1");
      await shot(pageC, "anchor");
      await pageA.goto(new URL("/hive", adminA.origin).href);
      await pageA.locator('line.edge[data-peer="hive"][data-path="direct"]').waitFor({
        state: "attached",
      });
      await shot(pageA, "hive-with-anchor");
      await pageC.close();
    });

    await t.step("refused: no token, a rebinding Host, a foreign Origin", async () => {
      const stranger = await browser!.newContext();
      const page = await stranger.newPage();
      await page.goto(new URL("/contacts", adminA.origin).href);
      await page.getByRole("heading", { name: "Paste your token" }).waitFor();
      assert.equal(await page.getByText("Bobby").count(), 0);
      await shot(page, "token");
      await stranger.close();

      // Signed-in browser, but the page came from a name that now points at the admin.
      const port = new URL(adminA.origin).port;
      const res = await pageA.goto(`http://rebind.test:${port}/contacts`);
      assert.equal(res?.status(), 403);
      assert.match(await pageA.textContent("body") ?? "", /Host header does not name/);

      // A page on another origin posts a form to the admin (CSRF).
      const evil = Deno.serve(
        { hostname: "127.0.0.9", port: 0, onListen() {} },
        () =>
          new Response(
            `<form method="post" action="${adminA.origin}/contacts/remove">` +
              `<input name="name" value="Bobby"><button>win a prize</button></form>`,
            { headers: { "content-type": "text/html" } },
          ),
      );
      try {
        await pageA.goto(`http://127.0.0.9:${evil.addr.port}/`);
        await pageA.getByRole("button", { name: "win a prize" }).click();
        await pageA.waitForURL(`${adminA.origin}/contacts/remove`);
        assert.match(await pageA.textContent("body") ?? "", /refused/);
      } finally {
        await evil.shutdown();
      }
      assert.deepEqual(
        (await a.node.call("contacts", {})).map((c) => c.name).sort(),
        ["Bobby", "hive"],
      );
    });

    await until(() => true);
    assert.deepEqual(problems, [], "no script errors or CSP violations");
  } finally {
    await browser?.close();
    for (const admin of admins) await admin.close();
    for (const n of nodes.reverse()) await n[Symbol.asyncDispose]();
  }
});
