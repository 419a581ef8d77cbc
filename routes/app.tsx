/**
 * The admin's Hono app: security first, then static files, the API and the
 * pages. What a visitor without a session may get (the sign-in page, static
 * files, refusals, not found, internal error) names nothing about the node:
 * no name, fingerprint, key or address (tests/admin_anonymous_test.ts).
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { NodeApi } from "../node/mod.ts";
import { apiRoutes, type EventStreams } from "./api.ts";
import type { Assets } from "./assets.ts";
import type { AdminContext } from "./context.ts";
import { forms, readForm } from "./forms.ts";
import { html, Layout } from "./layout.tsx";
import { anchorPages } from "./pages/anchor.tsx";
import { chatPages } from "./pages/chats.tsx";
import { messageActionPages } from "./pages/message_actions.tsx";
import { filePages } from "./pages/files.tsx";
import { groupPages } from "./pages/groups.tsx";
import { contactPages } from "./pages/contacts.tsx";
import { hivePages } from "./pages/hive.tsx";
import { identityPages } from "./pages/identity.tsx";
import { verifyPages } from "./pages/verify.tsx";
import { introductionPages } from "./pages/introductions.tsx";
import { searchPages } from "./pages/search.tsx";
import { settingsPages } from "./pages/settings.tsx";
import { devicePages } from "./pages/devices.tsx";
import { TokenPage } from "./pages/token.tsx";
import {
  checkHost,
  checkOrigin,
  type Guard,
  MAX_BODY,
  requireSession,
  securityHeaders,
  tooLarge,
} from "./security.ts";

export interface AppParts {
  api: NodeApi;
  guard: Guard;
  assets: Assets;
  streams: EventStreams;
  log: (line: string) => void;
}

const WRONG_TOKEN =
  "That token is not right: `roj admin` prints the current sign-in URL (a rotated token stops the old one).";

export function buildApp(parts: AppParts): Hono {
  const { api, guard, assets, streams, log } = parts;
  const ctx: AdminContext = { api, log };
  const app = new Hono();

  app.use("*", securityHeaders());
  app.use("*", checkHost(guard));
  app.use("*", bodyLimit({ maxSize: MAX_BODY, onError: tooLarge }));
  app.use("*", checkOrigin(guard));

  const signIn = (error?: string) => (c: Context) =>
    html(c, <TokenPage {...(error ? { error } : {})} />, error ? 403 : 401);

  app.use(
    "*",
    requireSession(
      guard,
      (c) =>
        c.req.path.startsWith("/static/") || c.req.path === "/favicon.ico" ||
        (c.req.path === "/" && c.req.query("token") !== undefined) ||
        (c.req.path === "/login" && c.req.method === "POST"),
      signIn(),
    ),
  );

  app.get("/static/:file", async (c) => {
    const asset = await assets.get(c.req.param("file"));
    if (!asset) return c.text("not found\n", 404);
    return c.body(asset.body.slice(), 200, {
      "Content-Type": asset.type,
      "Cache-Control": asset.cache ?? "no-cache",
    });
  });

  app.get("/favicon.ico", (c) => c.redirect("/static/icon.svg", 301));

  // The printed URL: trade the token for the cookie, then drop it from the address bar.
  app.get("/", async (c) => {
    const token = c.req.query("token");
    if (token !== undefined) {
      if (!guard.tokenMatches(token)) {
        return signIn(WRONG_TOKEN)(c);
      }
      c.header("Set-Cookie", guard.cookie());
      return c.redirect("/", 303);
    }
    const me = await api.call("status", {});
    return c.redirect(me.passive ? "/anchor" : "/chats", 303);
  });

  app.post("/login", async (c) => {
    const form = await readForm(c, forms.login);
    if (!form.ok) return signIn(form.error)(c);
    if (!guard.tokenMatches(form.data.token)) {
      return signIn(WRONG_TOKEN)(c);
    }
    c.header("Set-Cookie", guard.cookie());
    return c.redirect("/", 303);
  });

  app.route("/api", apiRoutes(api, streams, log));
  for (
    const pages of [
      groupPages,
      chatPages,
      filePages,
      contactPages,
      verifyPages,
      hivePages,
      identityPages,
      anchorPages,
      introductionPages,
      searchPages,
      settingsPages,
      devicePages,
    ]
  ) {
    app.route("/", pages(ctx));
  }
  app.route("/", messageActionPages(ctx));

  // Open paths (/static/…) end here too: a visitor without a session learns nothing of the node.
  app.notFound(async (c) => {
    const me = guard.signedIn(c) ? await api.call("status", {}) : null;
    return html(
      c,
      <Layout title="Not found" status={me}>
        <h1>Nothing here</h1>
        <p>
          <a href="/">Back to the start</a>
        </p>
      </Layout>,
      404,
    );
  });

  app.onError((err, c) => {
    log(`admin: internal error on ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`);
    if (c.req.path.startsWith("/api/")) {
      return c.json({ error: { code: "internal", message: "internal error" } }, 500);
    }
    return c.text("internal error; see the node's log\n", 500);
  });

  return app;
}
