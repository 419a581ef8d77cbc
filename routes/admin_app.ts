/**
 * The admin's pages, API and event streams for one listening admin, built on
 * its first request (startAdmin in mod.ts imports this module then): hono,
 * preact, the pages and the assets stay out of a node's memory until someone
 * opens the admin.
 */
import type { NodeApi } from "../node/mod.ts";
import { EventStreams } from "./api.ts";
import { buildApp } from "./app.tsx";
import { loadAssets } from "./assets.ts";
import { Guard } from "./security.ts";
import type { TokenSource } from "./admin_token.ts";

export interface AdminApp {
  fetch(req: Request): Response | Promise<Response>;
  /** Ends every event stream (the server is stopping). */
  closeAll(): void;
}

export async function adminApp(o: {
  api: NodeApi;
  host: string;
  port: number;
  /** The sign-in token as it is now (a rotation takes effect at once). */
  tokens: TokenSource;
  log: (line: string) => void;
}): Promise<AdminApp> {
  const assets = await loadAssets(o.log);
  const streams = new EventStreams();
  const guard = new Guard({ host: o.host, port: o.port, token: o.tokens });
  const app = buildApp({ api: o.api, guard, assets, streams, log: o.log });
  return {
    fetch: (req) => {
      assets.warm();
      return app.fetch(req);
    },
    closeAll: () => streams.closeAll(),
  };
}
