/**
 * The client side of the control socket, used by the CLI: calls methods on the
 * node running in a data folder and follows its events.
 */
import { isRojErrorCode, RojError } from "../errors.ts";
import type { NodeEvent, Params, Results } from "../api/mod.ts";
import {
  type CallMethod,
  FOLLOWING,
  LineSplitter,
  MAX_RESPONSE_LINE,
  type RequestId,
  responseSchema,
} from "./protocol.ts";
import { checkSocketPath, controlSocketPath } from "./socket_path.ts";
import { dataPaths } from "../home/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The error for "nobody listens in this folder", with the command that fixes it. */
export function noNodeError(dataDir: string, cause?: unknown): RojError {
  const message = holdsIdentity(dataDir)
    ? `no node is running in ${dataDir}; start it with \`roj run --data ${dataDir}\``
    // `roj run` there would make a new person: say so, so that nobody starts
    // over by mistake when their folder is elsewhere.
    : `no node is running in ${dataDir}, and it holds no identity: \`roj run --data ${dataDir}\` would create a new one there. ` +
      `If you have one, pass its folder with --data (or set ROJ_HOME); to choose a name or use an SSH key, run \`roj init --data ${dataDir}\` first`;
  return new RojError("no_node", message, cause === undefined ? {} : { cause });
}

/** Whether a data folder has an identity (a key, or a store that names one). */
function holdsIdentity(dataDir: string): boolean {
  const paths = dataPaths(dataDir);
  for (const path of [paths.key, paths.publicKey, paths.store]) {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      // missing or unreadable: look at the next
    }
  }
  return false;
}

/**
 * Connects to the node running in `dataDir` (through `<dataDir>/roj.sock`).
 *
 * @throws {RojError} no_node when no node runs there (no socket, or nobody listening);
 *   refused when the socket is not ours to open, or Deno's --allow-net is missing;
 *   bad_input when the path is too long.
 * @example
 * ```ts ignore
 * await using client = await connectControl(dataDir);
 * const status = await client.call("status", {});
 * ```
 */
export async function connectControl(dataDir: string): Promise<ControlClient> {
  const path = controlSocketPath(dataDir);
  checkSocketPath(path);
  // No socket file, no node: known without connecting (which needs Deno's net permission).
  try {
    await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw noNodeError(dataDir, err);
    throw err;
  }
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.ConnectionRefused) {
      throw noNodeError(dataDir, err);
    }
    if (err instanceof Deno.errors.PermissionDenied) {
      throw new RojError("refused", `cannot open ${path}: permission denied`, { cause: err });
    }
    if (err instanceof Deno.errors.NotCapable) {
      // Deno counts a Unix socket as net access: say which flag is missing, in one line.
      throw new RojError("refused", (err as Error).message, { cause: err });
    }
    throw err;
  }
  return new ControlClient(dataDir, conn);
}

interface PendingCall {
  resolve(result: unknown): void;
  reject(err: Error): void;
}

interface Follower {
  started: boolean;
  onEvent(event: NodeEvent): void;
  resolve(): void;
  reject(err: Error): void;
}

/** One connection to a running node. Calls may overlap; each gets its own id. */
export class ControlClient implements AsyncDisposable {
  /** The data folder of the node this client talks to. */
  readonly dataDir: string;
  readonly #conn: Deno.UnixConn;
  readonly #pending = new Map<RequestId, PendingCall>();
  readonly #followers = new Map<RequestId, Follower>();
  readonly #pump: Promise<void>;
  #nextId = 1;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;
  #closedByUs = false;
  #failure: RojError | null = null;

  constructor(dataDir: string, conn: Deno.UnixConn) {
    this.dataDir = dataDir;
    this.#conn = conn;
    this.#pump = this.#read();
  }

  /**
   * Calls one method and waits for its result.
   * @throws {RojError} with the node's code and message; unreachable when the node goes away first.
   */
  call<M extends CallMethod>(method: M, params: Params<M>): Promise<Results[M]> {
    const id = this.#nextId++;
    return new Promise<Results[M]>((resolve, reject) => {
      if (this.#closed) return reject(this.#endError());
      this.#pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.#write({ id, method, params }).catch((err) => {
        this.#pending.delete(id);
        reject(err);
      });
    });
  }

  /**
   * Asks for the node's events (those of one chat with `params.chat`) and hands each to
   * `onEvent` until the connection ends. Resolves when it ends, by `close()` or the node
   * stopping; rejects when the node refuses, or when `onEvent` throws (then the connection
   * is closed).
   */
  follow(params: Params<"follow">, onEvent: (event: NodeEvent) => void): Promise<void> {
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      if (this.#closed) return reject(this.#endError());
      this.#followers.set(id, { started: false, onEvent, resolve, reject });
      this.#write({ id, method: "follow", params }).catch((err) => {
        this.#followers.delete(id);
        reject(err);
      });
    });
  }

  /** True once the connection has ended, by either side. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True when the node ended the connection (it stopped), rather than `close()`. */
  get closedByNode(): boolean {
    return this.#closed && !this.#closedByUs;
  }

  /** Closes the connection; calls in flight fail, follows resolve. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closedByUs = true;
      this.#closeConn();
    }
    await this.#pump;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #endError(): RojError {
    return this.#failure ??
      (this.#closedByUs
        ? new RojError("unreachable", "the control connection was closed")
        : new RojError("unreachable", `the node in ${this.dataDir} closed the connection`, {
          retryable: true,
        }));
  }

  #closeConn(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already gone */ }
  }

  #write(request: { id: RequestId; method: string; params: unknown }): Promise<void> {
    const bytes = encoder.encode(JSON.stringify(request) + "\n");
    const done = this.#writing.then(async () => {
      if (this.#closed) throw this.#endError();
      let at = 0;
      try {
        while (at < bytes.length) at += await this.#conn.write(bytes.subarray(at));
      } catch (err) {
        throw new RojError("unreachable", `the node in ${this.dataDir} went away`, {
          cause: err,
          retryable: true,
        });
      }
    });
    this.#writing = done.catch(() => {});
    return done;
  }

  async #read(): Promise<void> {
    const splitter = new LineSplitter(MAX_RESPONSE_LINE);
    const buf = new Uint8Array(64 * 1024);
    try {
      while (!this.#closed) {
        let n: number | null;
        try {
          n = await this.#conn.read(buf);
        } catch {
          break;
        }
        if (n === null) break;
        for (const line of splitter.push(buf.subarray(0, n))) {
          if (this.#closed) break;
          this.#dispatch(line);
        }
        if (splitter.overflow) this.#protocolError("a response line is too long");
      }
    } finally {
      this.#closeConn();
      const err = this.#endError();
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
      for (const f of this.#followers.values()) {
        if (f.started) f.resolve();
        else f.reject(err);
      }
      this.#followers.clear();
    }
  }

  #protocolError(what: string, cause?: unknown): void {
    this.#failure ??= new RojError(
      "protocol",
      `the node sent a bad control line: ${what}`,
      cause === undefined ? {} : { cause },
    );
    this.#closeConn();
  }

  #dispatch(bytes: Uint8Array): void {
    let raw: unknown;
    try {
      raw = JSON.parse(decoder.decode(bytes));
    } catch (err) {
      return this.#protocolError("not JSON", err);
    }
    const parsed = responseSchema.safeParse(raw);
    if (!parsed.success) return this.#protocolError("unexpected shape", parsed.error);
    const line = parsed.data;
    if ("event" in line) {
      const f = this.#followers.get(line.id);
      if (!f?.started) return;
      try {
        f.onEvent(line.event as unknown as NodeEvent);
      } catch (err) {
        this.#followers.delete(line.id);
        f.reject(err instanceof Error ? err : new Error(String(err)));
        this.#closedByUs = true;
        this.#closeConn();
      }
      return;
    }
    // A code this client does not know (a newer node) still fails, as a protocol error.
    const error = line.ok ? null : new RojError(
      isRojErrorCode(line.error.code) ? line.error.code : "protocol",
      line.error.message,
    );
    if (line.id === null) {
      // The node could not read one of our lines: nothing to match it to, so fail everything.
      this.#failure ??= error ?? new RojError("protocol", "the node answered an unknown request");
      this.#closeConn();
      return;
    }
    const pending = this.#pending.get(line.id);
    if (pending) {
      this.#pending.delete(line.id);
      if (error) pending.reject(error);
      else pending.resolve(line.ok ? line.result : undefined);
      return;
    }
    const f = this.#followers.get(line.id);
    if (f && !f.started) {
      if (error) {
        this.#followers.delete(line.id);
        f.reject(error);
      } else if (line.ok && line.result === FOLLOWING) f.started = true;
      else this.#protocolError("unexpected follow answer");
    }
  }
}
