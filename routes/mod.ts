/**
 * The web admin: `startAdmin` serves the pages, the JSON API and the event
 * stream for one node on a loopback address.
 *
 * Routes (all behind the Host check; all but /static/ and signing in behind the session):
 *   GET  /?token=…              trade the token (kept in the data folder: admin_token.ts) for a cookie
 *   POST /login                 the same from the "paste your token" page
 *   GET  /chats, /chats/:name   chat list; one conversation (POST …/send without JS)
 *   GET  /contacts              contacts; POST /contacts/{rename,remove,block,invite,preview,add}
 *   GET  /hive                  the hive as a picture
 *   GET  /identity, /identity/key.pub
 *   GET  /anchor                a passive anchor's figures and members
 *   POST /api/<method>          the local API (JSON); GET /api/events: NodeEvents as SSE
 *   GET  /static/{style.css,icon.svg,islands.js}
 *
 * The islands are served from static/islands.js, built by `deno task build`
 * (which the start, roj and test tasks run first, and compile embeds), so a
 * node needs no run permission. Where that file is missing or stale the admin
 * bundles in memory with the running deno if it may run it (see assets.ts).
 *
 * Only the listener starts with the node: the app itself (hono, preact, the
 * pages, admin_app.ts) is loaded on the first request.
 */
import { RojError } from "../node/mod.ts";
import type { NodeApi } from "../node/mod.ts";
import type { AdminApp } from "./admin_app.ts";
import { hostPort, isLoopback, isWildcard, randomSecret } from "./security.ts";
import {
  fileToken,
  fixedToken,
  loadAdminToken,
  TOKEN_PATTERN,
  type TokenSource,
  writeAdminOrigin,
} from "./admin_token.ts";

export { isLoopback, MAX_BODY } from "./security.ts";
export { bundleIslands } from "./assets.ts";
export {
  adminTokenPath,
  loadAdminToken,
  readAdminOrigin,
  rotateAdminToken,
  writeAdminOrigin,
} from "./admin_token.ts";

export interface AdminOptions {
  /** The node to serve. */
  api: NodeApi;
  /** Address to listen on. @default "127.0.0.1" */
  host?: string;
  /** Port; 0 picks a free one. @default 7080 */
  port?: number;
  /** The sign-in token (base64url, 16–256 characters). @default 32 random bytes */
  token?: string;
  /**
   * Keep the token in this data folder (`admin-token`, 0600) so that sign-ins outlive a
   * restart, and say where the admin listens (`admin-origin`) for `roj admin`. Overrides `token`.
   */
  dataDir?: string;
  /** Allow a host other machines can reach (plain HTTP: only on a network you trust). @default false */
  allowRemote?: boolean;
  /** Receives warnings and internal errors, one line each. @default ignore */
  log?: (line: string) => void;
}

export interface AdminServer {
  /** The address to open, with the token: `http://127.0.0.1:7080/?token=…`. */
  readonly url: string;
  /** `http://host:port`, without the token. */
  readonly origin: string;
  /** Ends event streams, stops listening and waits for requests in progress. Safe to call twice. */
  close(): Promise<void>;
}

interface ResolvedOptions {
  api: NodeApi;
  host: string;
  port: number;
  tokens: TokenSource;
  dataDir: string | null;
  log: (line: string) => void;
}

async function resolveOptions(options: AdminOptions): Promise<ResolvedOptions> {
  const host = (options.host ?? "127.0.0.1").replace(/^\[|\]$/g, "");
  const port = options.port ?? 7080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`admin port must be 0-65535, got ${port}`);
  }
  const token = options.token ?? randomSecret();
  if (!TOKEN_PATTERN.test(token)) {
    throw new RangeError("admin token must be 16-256 characters of A-Z a-z 0-9 _ -");
  }
  const log = options.log ?? (() => {});
  if (!isLoopback(host)) {
    if (!options.allowRemote) {
      throw new RojError(
        "refused",
        `the admin would be reachable from other machines on ${
          hostPort(host, port)
        }; use a 127.0.0.1 address, or pass --web-allow-remote if you mean it`,
      );
    }
    log(
      `warning: the admin listens on ${
        hostPort(host, port)
      } over plain HTTP; anyone on the network who sees the token can use it`,
    );
  }
  let tokens = fixedToken(token);
  if (options.dataDir !== undefined) {
    const kept = await loadAdminToken(options.dataDir);
    if (kept.tightened) log(`admin: made ${options.dataDir}/admin-token private (mode 0600)`);
    tokens = fileToken(options.dataDir, kept.token, log);
  }
  return { api: options.api, host, port, tokens, dataDir: options.dataDir ?? null, log };
}

/**
 * Serves the admin for `options.api`.
 * @throws {RojError} refused for a non-loopback host without allowRemote; exists when the
 *   port is taken.
 * @throws {RangeError} for a bad port or token.
 * @example
 * ```ts ignore
 * const admin = await startAdmin({ api: node, port: 0 });
 * console.log(`admin: ${admin.url}`);
 * await admin.close();
 * ```
 */
export async function startAdmin(options: AdminOptions): Promise<AdminServer> {
  const o = await resolveOptions(options);
  let handler: (req: Request) => Response | Promise<Response> = () =>
    new Response("starting\n", { status: 503 });
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: o.host,
      port: o.port,
      onListen: () => {},
      onError: (err) => {
        o.log(`admin: ${(err as Error)?.stack ?? String(err)}`);
        return new Response("internal error\n", { status: 500 });
      },
    }, (req) => handler(req));
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      throw new RojError(
        "exists",
        `something already listens on ${
          hostPort(o.host, o.port)
        }; pick another address with --web, or turn the admin off with --no-web`,
        { cause: err },
      );
    }
    throw err;
  }
  const port = server.addr.port;
  let app: Promise<AdminApp> | undefined;
  handler = async (req) => {
    app ??= import("./admin_app.ts").then((m) => m.adminApp({ ...o, port })).catch((err) => {
      app = undefined; // the next request tries again
      throw err;
    });
    return (await app).fetch(req);
  };

  const shown = isWildcard(o.host) ? (o.host.includes(":") ? "::1" : "127.0.0.1") : o.host;
  const origin = `http://${hostPort(shown, port)}`;
  if (o.dataDir !== null) {
    try {
      await writeAdminOrigin(o.dataDir, origin);
    } catch (err) {
      await server.shutdown();
      throw err;
    }
  }
  let closed: Promise<void> | undefined;
  return {
    get url() {
      return `${origin}/?token=${o.tokens.current()}`;
    },
    origin,
    close() {
      closed ??= (async () => {
        (await app?.catch(() => undefined))?.closeAll();
        await server.shutdown();
        if (o.dataDir !== null) await writeAdminOrigin(o.dataDir, null).catch(() => {});
      })();
      return closed;
    },
  };
}
