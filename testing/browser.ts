/**
 * Real Chromium for admin tests (Debian's chromium via playwright-core):
 * launching it headless, failing on script errors, and screenshots to
 * test-artifacts/admin/ for a person to look at.
 */
import fs from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const HAVE_CHROMIUM: boolean = await Deno.stat(CHROMIUM).then(() => true, () => false);
const ARTIFACTS = new URL("../test-artifacts/admin/", import.meta.url);

// playwright-core probes /proc/sys/fs/binfmt_misc/WSLInterop when it loads; Deno answers
// even an existence check there with NotCapable unless run with -A. A refused probe means
// "not WSL", so the test task keeps its narrower permissions.
const existsSync = fs.existsSync;
fs.existsSync = ((path: fs.PathLike) => {
  try {
    return existsSync(path);
  } catch {
    return false;
  }
}) as typeof fs.existsSync;
const { chromium } = await import("playwright-core");

/** Headless Chromium with the flags the project's machines need. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      ...extraArgs,
    ],
  });
}

/**
 * A page of its own context (1000×800 unless told, actions waiting at most
 * 10 s), recording script and console errors into `problems`.
 */
export async function adminPage(
  browser: Browser,
  problems: string[],
  viewport = { width: 1000, height: 800 },
): Promise<Page> {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(10_000);
  return await watchedPage(context, problems);
}

/** A page that records script errors and console errors into `problems`. */
export async function watchedPage(
  context: BrowserContext,
  problems: string[],
  expected?: RegExp,
): Promise<Page> {
  const page = await context.newPage();
  watchProblems(page, problems, expected);
  return page;
}

/**
 * Collects the page's script errors and console errors into `problems`, but
 * for console errors matching `expected`. An error page (a refused form, an
 * unreachable peer) is logged as a failed load, and is always expected.
 */
export function watchProblems(page: Page, problems: string[], expected?: RegExp): void {
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    const text = msg.text();
    if (msg.type() !== "error" || /status of [45][0-9][0-9]/.test(text)) return;
    if (expected?.test(text)) return;
    problems.push(`console: ${text}`);
  });
}

/** A full-page screenshot as test-artifacts/admin/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true });
}
