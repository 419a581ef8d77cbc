/**
 * The node side of the control socket: accepts local clients, checks every
 * request with parseCall, answers from a NodeApi and streams events to
 * followers. See protocol.ts for the wire format.
 */
import { type Clock, delay, systemClock } from "../clock/mod.ts";
import { isRojError, RojError } from "../errors.ts";
import { type NodeApi, type NodeEvent, type Params, parseCall, type Results } from "../api/mod.ts";
import {
  type CallMethod,
  FOLLOWING,
  LineSplitter,
  MAX_REQUEST_LINE,
  type RequestId,
  requestSchema,
  type ResponseLine,
  type WireError,
} from "./protocol.ts";
import { checkSocketPath, socketDir } from "./socket_path.ts";

/** Bytes of unsent responses and events a client may fall behind by before it is dropped. */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

export interface ControlServerOptions {
  /** Receives one line per notable happening (dropped clients, internal errors). @default ignore */
  log?: (line: string) => void;
  /** Paces retries after a failed accept. @default systemClock */
  clock?: Clock;
}

export interface ControlServer {
  /** The socket's path. */
  readonly path: string;
  /**
   * Stops accepting, closes every connection (followers see the end of their
   * stream), waits for requests in progress and removes the socket file.
   * Safe to call twice.
   */
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Listens on the Unix socket `path` (mode 0600) and serves `api` to local clients.
 * A socket file left by a node that died is removed; a live one is not touched.
 *
 * @throws {RojError} exists when a node already answers on `path`, or `path` is not a socket;
 *   bad_input when `path` is too long for a Unix socket.
 * @example
 * ```ts ignore
 * const server = await serveControl(`${dir}/roj.sock`, node.api, { log: console.error });
 * // …
 * await server.close();
 * ```
 */
export async function serveControl(
  path: string,
  api: NodeApi,
  options: ControlServerOptions = {},
): Promise<ControlServer> {
  const log = options.log ?? (() => {});
  const clock = options.clock ?? systemClock;
  checkSocketPath(path);
  await claimPath(path);
  let listener: Deno.UnixListener;
  try {
    listener = Deno.listen({ transport: "unix", path });
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      throw new RojError("exists", `a node is already running in ${socketDir(path)}`, {
        cause: err,
      });
    }
    throw err;
  }
  let ino: number | null = null;
  try {
    // The data folder is 0700 already; this keeps the socket private wherever it is.
    await Deno.chmod(path, 0o600);
    ino = (await Deno.lstat(path)).ino;
  } catch (err) {
    listener.close();
    throw err;
  }

  const sessions = new Set<Session>();
  const runs = new Set<Promise<void>>();
  let closing = false;

  const acceptLoop = (async () => {
    while (!closing) {
      let conn: Deno.UnixConn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (closing) break;
        if (err instanceof Deno.errors.BadResource) break;
        log(`control: accept failed: ${(err as Error).message}`);
        // A transient failure (out of file descriptors): try again a moment later.
        await delay(clock, 50);
        continue;
      }
      if (closing) {
        conn.close();
        break;
      }
      const session = new Session(conn, api, log);
      sessions.add(session);
      const run: Promise<void> = session.run().finally(() => {
        sessions.delete(session);
        runs.delete(run);
      });
      runs.add(run);
    }
  })();

  let closed: Promise<void> | null = null;
  return {
    path,
    close() {
      closed ??= (async () => {
        closing = true;
        try {
          listener.close();
        } catch { /* already closed */ }
        for (const s of sessions) s.abort();
        await acceptLoop;
        await Promise.all(runs);
        await removeIfSame(path, ino);
      })();
      return closed;
    },
  };
}

/** Makes `path` free to listen on, or refuses when a node answers there. */
async function claimPath(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  if (!info.isSocket) {
    throw new RojError("exists", `${path} exists and is not a socket; move it away`);
  }
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (err) {
    if (err instanceof Deno.errors.ConnectionRefused || err instanceof Deno.errors.NotFound) {
      // Left behind by a node that was killed: nobody listens any more.
      await Deno.remove(path).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
      return;
    }
    throw err;
  }
  conn.close();
  throw new RojError("exists", `a node is already running in ${socketDir(path)}`);
}

async function removeIfSame(path: string, ino: number | null): Promise<void> {
  try {
    const info = await Deno.lstat(path);
    if (ino !== null && info.ino !== ino) return; // someone else's socket now
    await Deno.remove(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** Which chat an event is about, if any. */
export function eventChat(event: NodeEvent): string | null {
  switch (event.type) {
    case "message":
      return event.message.chat;
    case "delivered":
    case "read":
    case "typing":
      return event.chat;
    case "progress":
      return event.progress.chat;
    case "fork":
      return event.fork.chat;
    case "file":
      return event.chat;
    default:
      return null;
  }
}

/** One client connection: reads requests in order, writes responses and events through one queue. */
class Session {
  readonly #conn: Deno.UnixConn;
  readonly #api: NodeApi;
  readonly #log: (line: string) => void;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #ended = false;
  #connClosed = false;
  #unsubscribes: (() => void)[] = [];

  constructor(conn: Deno.UnixConn, api: NodeApi, log: (line: string) => void) {
    this.#conn = conn;
    this.#api = api;
    this.#log = log;
  }

  async run(): Promise<void> {
    const splitter = new LineSplitter(MAX_REQUEST_LINE);
    const buf = new Uint8Array(64 * 1024);
    try {
      while (!this.#ended) {
        let n: number | null;
        try {
          n = await this.#conn.read(buf);
        } catch {
          break; // reset by the client, or closed by abort()
        }
        if (n === null) break;
        for (const line of splitter.push(buf.subarray(0, n))) {
          if (this.#ended) break;
          await this.#handle(line);
        }
        if (splitter.overflow) {
          this.#send({
            id: null,
            ok: false,
            error: {
              code: "bad_input",
              message: `request line longer than ${MAX_REQUEST_LINE} bytes; closing`,
            },
          });
          this.#log("control: a client sent an overlong request line; closed");
          break;
        }
      }
    } finally {
      this.#stop();
      await this.#queue;
      this.#closeConn();
    }
  }

  /** Ends at once: pending writes are dropped and the connection closed. */
  abort(): void {
    this.#stop();
    this.#closeConn();
  }

  #stop(): void {
    this.#ended = true;
    const subs = this.#unsubscribes;
    this.#unsubscribes = [];
    for (const unsubscribe of subs) {
      try {
        unsubscribe();
      } catch (err) {
        this.#log(`control: unsubscribe failed: ${(err as Error).message}`);
      }
    }
  }

  #closeConn(): void {
    if (this.#connClosed) return;
    this.#connClosed = true;
    try {
      this.#conn.close();
    } catch { /* already gone */ }
  }

  async #handle(bytes: Uint8Array): Promise<void> {
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch (err) {
      return this.#fail(null, new RojError("bad_input", "request is not UTF-8", { cause: err }));
    }
    if (text.trim() === "") return;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return this.#fail(null, new RojError("bad_input", "request is not JSON", { cause: err }));
    }
    const envelope = requestSchema.safeParse(raw);
    if (!envelope.success) {
      const id = (raw as { id?: unknown } | null)?.id;
      const issue = envelope.error.issues[0];
      return this.#fail(
        typeof id === "number" && Number.isFinite(id) ? id : null,
        new RojError(
          "bad_input",
          `bad request: ${issue?.path.join(".") || "line"}: ${issue?.message ?? "invalid"}`,
          { cause: envelope.error },
        ),
      );
    }
    const { id } = envelope.data;
    try {
      const { method, params } = parseCall(envelope.data.method, envelope.data.params);
      if (method === "follow") return this.#follow(id, params as Params<"follow">);
      const call = this.#api.call.bind(this.#api) as (
        m: CallMethod,
        p: Params<CallMethod>,
      ) => Promise<Results[CallMethod]>;
      const result = await call(method, params as Params<CallMethod>);
      this.#send({ id, ok: true, result });
    } catch (err) {
      this.#fail(id, err, envelope.data.method);
    }
  }

  #follow(id: RequestId, params: Params<"follow">): void {
    const chat = params.chat;
    this.#send({ id, ok: true, result: FOLLOWING });
    const unsubscribe = this.#api.subscribe((event) => {
      if (this.#ended) return;
      if (chat !== undefined && eventChat(event) !== chat) return;
      this.#send({ id, event });
    });
    if (this.#ended) unsubscribe();
    else this.#unsubscribes.push(unsubscribe);
  }

  #fail(id: RequestId | null, err: unknown, method?: string): void {
    this.#send({ id, ok: false, error: this.#wireError(err, method) });
  }

  #wireError(err: unknown, method?: string): WireError {
    if (isRojError(err)) return { code: err.code, message: err.message };
    const message = err instanceof Error ? err.message : String(err);
    this.#log(
      `control: internal error${method ? ` in ${method}` : ""}: ${
        err instanceof Error ? err.stack ?? message : message
      }`,
    );
    // The code says it is a bug; the CLI prints "roj: internal: <message>".
    return { code: "internal", message };
  }

  #send(line: ResponseLine): void {
    if (this.#connClosed) return;
    let bytes: Uint8Array;
    try {
      bytes = encoder.encode(JSON.stringify(line) + "\n");
    } catch (err) {
      if ("event" in line) return;
      bytes = encoder.encode(
        JSON.stringify({ id: line.id, ok: false, error: this.#wireError(err) }) + "\n",
      );
    }
    if (this.#queued > 0 && this.#queued + bytes.length > MAX_QUEUED_BYTES) {
      this.#log("control: a client fell too far behind; dropped");
      this.abort();
      return;
    }
    this.#queued += bytes.length;
    this.#queue = this.#queue
      .then(() => this.#connClosed ? undefined : writeAll(this.#conn, bytes))
      .catch(() => this.abort())
      .finally(() => {
        this.#queued -= bytes.length;
      });
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}
