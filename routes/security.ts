/**
 * What keeps the admin to its owner: the bound address, a token (kept in the
 * data folder until rotated: admin_token.ts) traded for an HttpOnly
 * SameSite=Strict cookie derived from it, a Host check
 * against DNS rebinding, an Origin check on every state-changing request,
 * strict response headers (CSP without inline scripts) and a body size limit.
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { ipKindOf, parseIp } from "../node/mod.ts";
import { fixedToken, sessionOf, type TokenSource } from "./admin_token.ts";

/** The largest request body accepted, in bytes (a message is at most 16,000 characters). */
export const MAX_BODY = 256 * 1024;

/**
 * Sent with every answer: only same-origin files run, nothing inline, no framing; images also
 * from blob: URLs, which the file list makes of bytes it fetched same-origin (islands/_blob.ts).
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const encoder = new TextEncoder();

/** Compares two secrets in time that does not depend on where they differ. */
export function sameSecret(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/** 32 random bytes as base64url. */
export function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || ipKindOf(h) === "loopback";
}

export function isWildcard(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "0.0.0.0" || h === "::";
}

/** "host:port" as it appears in a URL or a Host header. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host.replace(/^\[|\]$/g, "")}]` : host}:${port}`;
}

/** A literal IPv4 address, or an IPv6 one in brackets (no zone: a Host header carries none). */
function isIpLiteral(host: string): boolean {
  if (host.startsWith("[")) {
    return host.endsWith("]") && !host.includes("%") && parseIp(host.slice(1, -1))?.family === 6;
  }
  return parseIp(host)?.family === 4;
}

/** The admin's secrets and which Host headers name it. */
export class Guard {
  /** Cookies ignore ports, so two admins on one address each need their own name. */
  readonly cookieName: string;
  readonly #tokens: TokenSource;
  readonly #hosts: Set<string>;
  readonly #anyIp: boolean;
  readonly #port: number;
  #sessionFor = "";
  #session = "";

  constructor(options: { host: string; port: number; token: string | TokenSource }) {
    const { host, port } = options;
    this.#tokens = typeof options.token === "string" ? fixedToken(options.token) : options.token;
    this.cookieName = `roj_admin_${port}`;
    this.#port = port;
    const names = [hostPort(host, port), `localhost:${port}`];
    if (isLoopback(host) && host.includes(":")) names.push(hostPort("::1", port));
    if (port === 80) names.push(host.includes(":") ? `[${host}]` : host, "localhost");
    this.#hosts = new Set(names.map((n) => n.toLowerCase()));
    // Listening everywhere: any address of this machine may be typed, but never a DNS name,
    // which is what a rebinding attack needs.
    this.#anyIp = isWildcard(host);
  }

  /** What the person types or opens (the file's, when kept in the data folder). */
  get token(): string {
    return this.#tokens.current();
  }

  /** What the cookie holds after the token is traded in: derived, so a rotation ends it. */
  get session(): string {
    const token = this.token;
    if (token !== this.#sessionFor) {
      this.#session = sessionOf(token);
      this.#sessionFor = token;
    }
    return this.#session;
  }

  /** Whether a Host header names this admin (and not a DNS name pointing here). */
  hostAllowed(host: string | undefined): boolean {
    if (!host) return false;
    const h = host.toLowerCase();
    if (this.#hosts.has(h)) return true;
    if (!this.#anyIp) return false;
    const at = h.lastIndexOf(":");
    if (at < 0 || h.slice(at + 1) !== String(this.#port)) return false;
    return isIpLiteral(h.slice(0, at));
  }

  /** A valid session cookie or `Authorization: Bearer <token>`. */
  signedIn(c: Context): boolean {
    const cookie = getCookie(c, this.cookieName);
    if (cookie !== undefined && sameSecret(cookie, this.session)) return true;
    return this.bearer(c);
  }

  /** `Authorization: Bearer <token>`, for scripts (browsers cannot forge it across sites). */
  bearer(c: Context): boolean {
    const auth = c.req.header("authorization");
    const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
    return m !== null && sameSecret(m[1]!, this.token);
  }

  /** The token from what was pasted: the token alone or the whole admin URL. */
  tokenMatches(pasted: string): boolean {
    let t = pasted.trim();
    const m = /[?&]token=([^&#\s]+)/.exec(t);
    if (m) t = decodeURIComponent(m[1]!);
    return t.length > 0 && sameSecret(t, this.token);
  }

  /** The Set-Cookie value for a signed-in browser (for the browser session: a bookmark outlives it). */
  cookie(): string {
    return `${this.cookieName}=${this.session}; Path=/; HttpOnly; SameSite=Strict`;
  }
}

function refuse(c: Context, status: 400 | 401 | 403 | 413, message: string): Response {
  if (c.req.path.startsWith("/api/")) {
    return c.json({ error: { code: "refused", message } }, status);
  }
  return c.text(`${message}\n`, status);
}

/** Headers on every answer. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set("Content-Security-Policy", CSP);
    h.set("X-Content-Type-Options", "nosniff");
    // Not "no-referrer": with it, Chromium sends "Origin: null" on form posts.
    h.set("Referrer-Policy", "same-origin");
    h.set("X-Frame-Options", "DENY");
    h.set("Cross-Origin-Opener-Policy", "same-origin");
    h.set("Cross-Origin-Resource-Policy", "same-origin");
    if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
  };
}

/** Refuses a Host header that does not name this admin: a DNS-rebinding page cannot pass. */
export function checkHost(guard: Guard): MiddlewareHandler {
  return async (c, next) => {
    if (!guard.hostAllowed(c.req.header("host"))) {
      return refuse(c, 403, "refused: this Host header does not name the Roj admin");
    }
    await next();
  };
}

/**
 * State-changing requests must come from the admin's own pages: their Origin
 * is this admin. A script without a browser may instead send the token as a
 * Bearer header and no Origin.
 */
export function checkOrigin(guard: Guard): MiddlewareHandler {
  return async (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return next();
    const origin = c.req.header("origin");
    if (origin === undefined) {
      if (guard.bearer(c)) return next();
      return refuse(c, 403, "refused: a state-changing request needs an Origin header");
    }
    if (origin.toLowerCase() !== `http://${c.req.header("host")?.toLowerCase()}`) {
      return refuse(c, 403, "refused: this request comes from another site (Origin)");
    }
    await next();
  };
}

/** Lets through signed-in requests and `open` paths; others get `signIn` (pages) or 401 (API). */
export function requireSession(
  guard: Guard,
  open: (c: Context) => boolean,
  signIn: (c: Context) => Response | Promise<Response>,
): MiddlewareHandler {
  return async (c, next) => {
    if (open(c) || guard.signedIn(c)) {
      await next();
      return;
    }
    if (c.req.path.startsWith("/api/")) {
      return refuse(c, 401, "sign in first: open the admin URL that `roj admin` prints");
    }
    return await signIn(c);
  };
}

/** The answer to an oversize body. */
export function tooLarge(c: Context): Response {
  return refuse(c, 413, `refused: the request body is larger than ${MAX_BODY} bytes`);
}
