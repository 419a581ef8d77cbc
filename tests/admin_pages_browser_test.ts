/**
 * Every admin page in real Chromium at 1280×800 and 390×844, held to what the
 * chat pages already do: one header, the messenger's (who, sections, search in
 * one row on a wide screen; two short rows on a phone, the sections in one
 * line), nothing wider than the window. Screenshots go to
 * test-artifacts/admin/pages-<page>-<width>.png for a person to look at.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { adminPage, HAVE_CHROMIUM, launchChromium, screenshot } from "../testing/browser.ts";
import { startAdmin } from "../routes/mod.ts";
import { identiconSvg } from "../islands/_avatar.tsx";

const PAGES = [
  ["chats", "/chats"],
  ["chat-empty", "/chats/bob"],
  ["contacts", "/contacts"],
  ["group-members", "/chats/climbers/members"],
  ["files", "/chats/bob/files"],
  ["devices", "/devices"],
  ["settings", "/settings"],
  ["identity", "/identity"],
  ["hive", "/hive"],
  ["introductions", "/introductions"],
  ["verify", "/contacts/bob/verify"],
  ["search", "/search?q=rope"],
] as const;

/** The header's and its parts' boxes, and how wide the page is against its window. */
function measure(page: Page) {
  return page.evaluate(() => {
    const box = (sel: string) => {
      const el = document.querySelector(sel);
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return { x: r.x, y: r.y, w: r.width, h: r.height };
    };
    const links = [...document.querySelectorAll("header.top nav a")].map((a) =>
      a.getBoundingClientRect().y
    );
    return {
      header: box("header.top"),
      who: box("header.top .who"),
      search: box("header.top form.search"),
      nav: box("header.top nav"),
      lastLinkEnd: Math.max(
        ...[...document.querySelectorAll("header.top nav a")].map((a) =>
          a.getBoundingClientRect().right
        ),
      ),
      linkRows: new Set(links.map((y) => Math.round(y))).size,
      scroll: document.scrollingElement!.scrollWidth,
      inner: globalThis.innerWidth,
    };
  });
}

/** Two controls (by their text) on one line, centred alike, apart, neither over the other. */
async function sideBySide(page: Page, a: string, b: string): Promise<void> {
  const box = async (text: string) =>
    (await page.locator("main").getByText(text, { exact: true }).boundingBox())!;
  const [l, r] = [await box(a), await box(b)].sort((x, y) => x.x - y.x) as [
    { x: number; y: number; width: number; height: number },
    { x: number; y: number; width: number; height: number },
  ];
  assert.ok(
    Math.abs(l.y + l.height / 2 - (r.y + r.height / 2)) < 4,
    `"${a}" and "${b}" centred on one line`,
  );
  assert.ok(r.x >= l.x + l.width + 4, `"${a}" and "${b}" apart`);
}

Deno.test({
  name: "admin pages: one header on every page, two short rows on a phone, nothing sideways",
  ignore: !HAVE_CHROMIUM,
}, async (t) => {
  await using alice = await startTestNode("alice", { host: "127.61.7.2" });
  await using bob = await startTestNode("bob", { host: "127.61.7.3" });
  await befriend(alice, bob);
  await alice.node.call("group.create", { name: "climbers" });
  await alice.node.call("group.add", { group: "climbers", members: ["bob"] });
  await alice.node.call("send", { chat: "climbers", text: "rope at 9?" });
  const admin = await startAdmin({ api: alice.node, host: "127.61.7.2", port: 0 });
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    browser = await launchChromium();
    for (const [width, height] of [[1280, 800], [390, 844], [320, 640]] as const) {
      const page = await adminPage(browser, problems, { width, height });
      await page.goto(admin.url);
      for (const [name, path] of PAGES) {
        await t.step(`${name} at ${width}px`, async () => {
          await page.goto(new URL(path, admin.origin).href);
          if (name === "chat-empty") {
            // A new chat says so in its pane; on a phone the conversation has the whole screen.
            await page.locator(".scroller .empty").waitFor();
            const note = (await page.locator(".scroller .empty").boundingBox())!;
            const pane = (await page.locator(".scroller").boundingBox())!;
            const off = note.y + note.height / 2 - (pane.y + pane.height / 2);
            assert.ok(
              Math.abs(off) < 24,
              `the empty chat's note is ${off}px off the pane's middle`,
            );
            // It opens on who it is with, as Signal's does, and its safety number is a click away.
            assert.equal(await page.locator(".chat-intro h3").textContent(), "bob");
            assert.ok(await page.locator(".chat-intro a[href$='/verify']").isVisible());
            // The keyboard hint is for whoever is typing: hidden until the composer has the focus.
            const keys = page.locator("#text-hint .keys");
            if (width >= 768) {
              assert.equal(await keys.isVisible(), false);
              await page.locator("#text").focus();
              assert.equal(await keys.isVisible(), true);
              await page.locator("#text").blur();
            }
            if (width < 768) {
              assert.equal(await page.locator("header.top").isVisible(), false);
              const m = await measure(page);
              assert.ok(m.scroll <= m.inner, `${name}: ${m.scroll}px wide in ${m.inner}px`);
              await screenshot(page, `pages-${name}-${width}`);
              return;
            }
          }
          await page.locator("header.top nav").waitFor();
          await page.evaluate(() => document.fonts.ready.then(() => undefined));
          const m = await measure(page);
          assert.ok(m.scroll <= m.inner, `${name}: ${m.scroll}px wide in a ${m.inner}px window`);
          assert.equal(m.linkRows, 1, `${name}: the sections are one line`);
          const { header, who, search, nav } = m;
          assert.ok(header && who && search && nav, `${name}: the header has its parts`);
          if (width >= 1000) {
            // One row: the name, the sections and the search box side by side.
            assert.ok(header.h < 80, `${name}: the header is one row (${header.h}px)`);
            assert.ok(nav.x >= who.x + who.w && search.x >= nav.x + nav.w - 1, name);
          } else {
            // Two rows: the name beside the search box, then the sections.
            assert.ok(header.h < 100, `${name}: the header is two short rows (${header.h}px)`);
            assert.ok(Math.abs(who.y + who.h / 2 - (search.y + search.h / 2)) < 8, name);
            assert.ok(nav.y >= search.y + search.h - 1, `${name}: the sections below`);
            assert.ok(nav.x + nav.w <= width, name);
            // Every section in sight, none scrolled out of the line, down to 320 px.
            assert.ok(
              m.lastLinkEnd <= nav.x + nav.w + 0.5,
              `${name}: the last section ends at ${m.lastLinkEnd}, the line at ${nav.x + nav.w}`,
            );
          }
          // The fingerprint is the Identity page's, not every header's.
          assert.equal(await page.locator("header.top .who small").isVisible(), false);
          if (name === "chats") {
            // "live" is a dot in the list's head, beside "Chats", not a line above the chats.
            const live = (await page.locator('.pane-list .live[data-live="live"]').boundingBox())!;
            const head = (await page.locator(".pane-list .list-head").boundingBox())!;
            assert.ok(live.y >= head.y && live.y + live.height <= head.y + head.height, "in head");
          }
          if (name === "chats") {
            // Founding a group is one folded line under the list until asked for.
            const field = page.getByLabel("Name of the new group");
            assert.equal(await field.isVisible(), false);
            await page.locator("details.new-group > summary").click();
            await field.waitFor();
            await screenshot(page, `pages-chats-new-group-${width}`);
            await page.locator("details.new-group > summary").click();
          }
          if (name === "contacts" || name === "group-members") {
            // bob's picture, the one the chat list shows for him.
            const pic = page.locator('[data-contact="bob"], [data-member="bob"]').locator(
              ".avatar .pic",
            );
            assert.equal(
              (await pic.innerHTML()).replaceAll("></rect>", "/>"),
              identiconSvg(bob.node.fingerprint),
            );
          }
          if (name === "contacts" && width >= 1000) {
            // The invite form's select and number box side by side, one height, labels level.
            const sel = (await page.getByLabel("Valid for").boundingBox())!;
            const num = (await page.getByLabel("How many people may use it").boundingBox())!;
            assert.ok(Math.abs(sel.y - num.y) < 1 && Math.abs(sel.height - num.height) < 1);
            await page.locator("header.top .notify-link").waitFor(); // elsewhere it is there
          }
          if (name === "settings" && width >= 1000) {
            // The page's own button; the header's prompt to it is not said twice.
            await page.getByRole("button", { name: "Turn on notifications" }).waitFor();
            assert.equal(await page.locator("header.top .notify-link").isVisible(), false);
          }
          // (Narrower than 390 px a line of buttons may wrap.)
          if (name === "identity" && width >= 390) {
            await sideBySide(page, "Copy the key", "Download alice.pub");
          }
          if (name === "group-members" && width >= 390) {
            await sideBySide(page, "Make bob an admin", "Remove bob…");
          }
          await screenshot(page, `pages-${name}-${width}`);
        });
      }
      await page.context().close();
    }
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await admin.close();
  }
});
