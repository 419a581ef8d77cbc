/**
 * The local JSON API over HTTP, the same one the control socket serves:
 * `POST /api/<method>` with JSON params answers the result, or
 * `{ error: { code, message } }`; `GET /api/events[?chat=name]` streams
 * NodeEvents as server-sent events. Every call goes through parseCall, then
 * the node's `call`, exactly as on the socket.
 */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { isRojError, RojError, type RojErrorCode } from "../node/mod.ts";
import {
  type Method,
  type NodeApi,
  type NodeEvent,
  type Params,
  parseCall,
  type Results,
} from "../node/mod.ts";
import { eventChat } from "../node/mod.ts";

type CallMethod = Exclude<Method, "follow">;

/** Live event streams at once; more are refused until some end. */
export const MAX_STREAMS = 64;
/** Events a slow reader may fall behind by before its stream is ended. */
const MAX_BACKLOG = 1000;
/** A comment line this often keeps proxies and the browser from timing out. */
const KEEPALIVE_MS = 15_000;

/**
 * Checks `method` and `params` with parseCall and asks the node.
 * @throws {RojError} bad_input for an unknown method or bad params, or what the node throws.
 */
export async function callNode(api: NodeApi, method: unknown, params: unknown): Promise<unknown> {
  const parsed = parseCall(method, params);
  if (parsed.method === "follow") {
    throw new RojError("bad_input", "follow is served as server-sent events: GET /api/events");
  }
  const call = api.call.bind(api) as (
    m: CallMethod,
    p: Params<CallMethod>,
  ) => Promise<Results[CallMethod]>;
  return await call(parsed.method, parsed.params as Params<CallMethod>);
}

/** The HTTP status of each error code; the compiler checks that every code has one. */
const STATUS: Readonly<Record<RojErrorCode, ContentfulStatusCode>> = {
  usage: 400,
  bad_input: 400,
  key_malformed: 400,
  key_passphrase_required: 400,
  key_bad_passphrase: 400,
  key_unsupported: 400,
  bad_signature: 400,
  wrong_chat: 400,
  unknown_method: 400,
  refused: 403,
  not_found: 404,
  exists: 409,
  identity_conflict: 409,
  seq_gap: 409,
  prev_mismatch: 409,
  equivocation: 409,
  store_corrupt: 500,
  seal_failed: 500,
  internal: 500,
  protocol: 502,
  no_node: 503,
  unreachable: 503,
  busy: 503,
  // The node's key is in an ssh-agent that is gone: it cannot sign until the agent is back.
  agent_unavailable: 503,
  timeout: 504,
};

/** The wire form of an error; anything but a RojError is logged and reported as internal. */
export function apiError(
  err: unknown,
  log: (line: string) => void,
  what = "request",
): { status: ContentfulStatusCode; body: { error: { code: string; message: string } } } {
  if (isRojError(err)) {
    return {
      status: STATUS[err.code],
      body: { error: { code: err.code, message: err.message } },
    };
  }
  log(`admin: internal error in ${what}: ${(err as Error)?.stack ?? String(err)}`);
  return {
    status: 500,
    body: { error: { code: "internal", message: "internal error; see the node's log" } },
  };
}

const encoder = new TextEncoder();

/** The open event streams, so that closing the admin can end them. */
export class EventStreams {
  readonly #closers = new Set<() => void>();

  get size(): number {
    return this.#closers.size;
  }

  /**
   * A `text/event-stream` response carrying `api`'s events that `keep` lets through.
   * It ends when the client goes away (the body is cancelled) or on closeAll().
   */
  open(api: NodeApi, keep: (e: NodeEvent) => boolean): Response {
    let close = () => {};
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        let closed = false;
        const send = (text: string) => {
          if (closed) return;
          if ((controller.desiredSize ?? 0) < -MAX_BACKLOG) return close();
          controller.enqueue(encoder.encode(text));
        };
        const unsubscribe = api.subscribe((event) => {
          if (keep(event)) send(`data: ${JSON.stringify(event)}\n\n`);
        });
        const timer = setInterval(() => send(": keepalive\n\n"), KEEPALIVE_MS);
        close = () => {
          if (closed) return;
          closed = true;
          unsubscribe();
          clearInterval(timer);
          this.#closers.delete(close);
          try {
            controller.close();
          } catch { /* already errored or closed */ }
        };
        this.#closers.add(close);
        send("retry: 2000\n: connected\n\n");
      },
      cancel: () => close(),
    });
    return new Response(stream, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
      },
    });
  }

  /** Ends every stream. */
  closeAll(): void {
    for (const close of [...this.#closers]) close();
  }
}

/** The API routes, to mount at /api. */
/**
 * Methods that read or write a path on the node's machine (files): the CLI's,
 * not a web page's, so that a script in the admin can never reach the disk.
 */
const PATH_METHODS: ReadonlySet<string> = new Set(["file.send", "file.save"]);

export function apiRoutes(
  api: NodeApi,
  streams: EventStreams,
  log: (line: string) => void,
): Hono {
  const app = new Hono();

  app.get("/events", (c) => {
    let chat: string | undefined;
    try {
      const q = c.req.query("chat");
      chat = (parseCall("follow", q === undefined ? {} : { chat: q }).params as Params<"follow">)
        .chat;
    } catch (err) {
      const { status, body } = apiError(err, log);
      return c.json(body, status);
    }
    if (streams.size >= MAX_STREAMS) {
      return c.json({ error: { code: "busy", message: "too many open event streams" } }, 503);
    }
    const withLog = c.req.query("log") === "1";
    return streams.open(
      api,
      (e) => (e.type !== "log" || withLog) && (chat === undefined || eventChat(e) === chat),
    );
  });

  app.post("/:method", async (c) => {
    const method = c.req.param("method");
    if (PATH_METHODS.has(method)) {
      return c.json({
        error: { code: "refused", message: `${method} takes a path on this machine: use the CLI` },
      }, 403);
    }
    const type = c.req.header("content-type") ?? "";
    // Also keeps cross-site HTML forms out: they cannot send application/json.
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      return c.json({
        error: { code: "bad_input", message: "send the params as application/json" },
      }, 415);
    }
    let params: unknown;
    try {
      const text = await c.req.text();
      params = text.trim() === "" ? {} : JSON.parse(text);
    } catch {
      return c.json({ error: { code: "bad_input", message: "the body is not JSON" } }, 400);
    }
    try {
      return c.json(await callNode(api, method, params));
    } catch (err) {
      const { status, body } = apiError(err, log, method);
      return c.json(body, status);
    }
  });

  app.all("*", (c) =>
    c.json({
      error: { code: "bad_input", message: "use POST /api/<method> or GET /api/events" },
    }, 405));

  return app;
}
