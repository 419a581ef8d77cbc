/**
 * Request/response over a Pipe, both directions at once. Each side sends its
 * hello first; requests carry ids and time out; a handler's RojError goes back
 * as a refusal with its code. Any malformed frame closes this session only.
 *
 * Typed from methods.ts on both sides and checked here, once: a request's
 * result is parsed against its method's schema before the caller sees it, and
 * a handler is called only with params that passed theirs (otherwise the peer
 * is answered bad_input). Callers and handlers never check again.
 *
 * Backpressure: a peer that stops reading must not make us hold its answers.
 * Once more than `softBufferBytes` wait to go out, the session stops reading
 * the peer (an SSH channel then stops extending its window) and holds the
 * requests it already has; both resume when the backlog drains. Past
 * `hardBufferBytes` the session is closed.
 *
 * Admission: the owner of a session may `hold()` the peer's requests until it
 * has registered the session (`admit()`), so that a request sent in the same
 * flight as the hello is not served by a session nobody knows yet (one that
 * may still be closed as a duplicate, or that a handler would not find among
 * the live ones). At most MAX_UNADMITTED_REQUESTS wait; more closes it.
 */
import { type Clock, systemClock, type TimerId } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import type { Pipe } from "../transport/mod.ts";
import { BULK_CODECS, type BulkForms, type BulkMethod, type PageCodec } from "./bulk.ts";
import { encodeFrame, FrameDecoder } from "./codec.ts";
import { BULK_FEATURE, peerHas } from "./features.ts";
import {
  type BinaryAnswer,
  type BinaryRequest,
  type Frame,
  type Hello,
  PROTOCOL_VERSION,
} from "./messages.ts";
import {
  answersBinary,
  check,
  type MethodName,
  type ParamsOf,
  type ResultOf,
  schemas,
} from "./methods.ts";

/** Serves one method: called with checked params, its result goes back as the answer. */
export type Handler<M extends MethodName> = (
  params: ParamsOf<M>,
) => Promise<ResultOf<M>> | ResultOf<M>;

export interface RpcOptions {
  /** Our hello, sent at once. */
  readonly hello: Omit<Hello, "t" | "v">;
  /** @default 10000 */
  readonly helloTimeoutMs?: number;
  /** Default request timeout. @default 15000 */
  readonly requestTimeoutMs?: number;
  /** Inbound requests being handled at once before the peer is told "busy". @default 64 */
  readonly maxInFlight?: number;
  /** A handler failed with something other than a RojError (a bug): for the log. */
  readonly onInternalError?: (method: string, err: unknown) => void;
  /** Runs the hello and request timeouts. @default systemClock */
  readonly clock?: Clock;
  /** Bytes waiting to go out before we stop reading the peer. @default SOFT_BUFFER_BYTES */
  readonly softBufferBytes?: number;
  /** Bytes waiting to go out at which the session is closed. @default HARD_BUFFER_BYTES */
  readonly hardBufferBytes?: number;
}

/** Outgoing bytes a session lets wait before it stops reading its peer. */
export const SOFT_BUFFER_BYTES = 4 * 1024 * 1024;
/** Outgoing bytes at which a session whose peer reads nothing is closed. */
export const HARD_BUFFER_BYTES = 16 * 1024 * 1024;
/** Requests held while the peer is not reading; more closes the session. */
const MAX_HELD_REQUESTS = 4096;
/** Requests held before the session is admitted (registered by its owner); more closes it. */
export const MAX_UNADMITTED_REQUESTS = 64;

/** A request from the peer, as JSON or (bulk1) as a binary request. */
type Incoming = Extract<Frame, { t: "req" }> | BinaryRequest;
/** A bulk method's page in its two wire forms (protocol/bulk.ts). */
type AnyPage = PageCodec<unknown, unknown>;

interface Pending {
  /** Whose schema the answer is checked against. */
  method: MethodName;
  /** A bulk method's result page: the answer is decoded into it (requestBulk). */
  page?: AnyPage;
  resolve(v: unknown): void;
  reject(e: RojError): void;
  timer: TimerId;
}

export class RpcSession {
  readonly pipe: Pipe;
  /** Resolves with the peer's hello; rejects if the session closes first. */
  readonly ready: Promise<Hello>;
  /** By method name; each checks its params before calling the handler it wraps. */
  #handlers = new Map<string, (params: unknown) => unknown>();
  /** Bulk methods served from binary requests (bulk1), by name: each decodes its page first. */
  #bulkHandlers = new Map<string, (bytes: Uint8Array) => unknown>();
  /** Bulk methods whose result is a page, by name: sent in binary to a peer that lists bulk1. */
  #resultPages = new Map<string, AnyPage>();
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #inFlight = 0;
  #closed = false;
  #closeReason: string | undefined;
  #closeListeners: Array<(reason?: string) => void> = [];
  #peerHello: Hello | undefined;
  #decoder = new FrameDecoder();
  readonly #requestTimeoutMs: number;
  readonly #maxInFlight: number;
  readonly #onInternalError: ((method: string, err: unknown) => void) | undefined;
  readonly #clock: Clock;
  readonly #soft: number;
  readonly #hard: number;
  /** Reading the peer is paused until our backlog drains. */
  #paused = false;
  /** Requests received while paused, served once it drains. */
  readonly #held: Incoming[] = [];
  #pumping = false;
  /** Requests are served (see hold/admit). */
  #admitted = true;
  /** We list bulk1: binary requests and page answers may come (else they are a protocol error). */
  readonly #bulk: boolean;

  constructor(pipe: Pipe, options: RpcOptions) {
    this.pipe = pipe;
    this.#clock = options.clock ?? systemClock;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.#maxInFlight = options.maxInFlight ?? 64;
    this.#onInternalError = options.onInternalError;
    this.#soft = options.softBufferBytes ?? SOFT_BUFFER_BYTES;
    this.#hard = options.hardBufferBytes ?? HARD_BUFFER_BYTES;
    this.#bulk = options.hello.features.includes(BULK_FEATURE);
    pipe.onDrain?.(() => this.#drained());
    let helloResolve!: (h: Hello) => void;
    let helloReject!: (e: RojError) => void;
    this.ready = new Promise<Hello>((res, rej) => {
      helloResolve = res;
      helloReject = rej;
    });
    this.ready.catch(() => {});
    const helloTimer = this.#clock.setTimeout(
      () => this.close("no hello in time"),
      options.helloTimeoutMs ?? 10_000,
    );
    this.#closeListeners.push(() => {
      this.#clock.clearTimeout(helloTimer);
      helloReject(
        new RojError(
          "unreachable",
          `session closed before hello: ${this.#closeReason ?? "closed"}`,
          { retryable: true },
        ),
      );
    });
    pipe.onData((chunk) => {
      if (this.#closed) return;
      let frames: Frame[];
      try {
        frames = this.#decoder.push(chunk);
      } catch (err) {
        this.close(`bad frame from peer: ${(err as Error).message}`);
        return;
      }
      for (const f of frames) {
        if (this.#closed) return;
        if (f.t === "hello") {
          if (this.#peerHello) return this.close("second hello");
          this.#peerHello = f as Hello;
          this.#clock.clearTimeout(helloTimer);
          helloResolve(this.#peerHello);
        } else if (!this.#peerHello) {
          return this.close("frame before hello");
        } else if (f.t === "breq" && !this.#bulk) {
          return this.close("binary request, and bulk1 was not offered");
        } else if (f.t === "req" || f.t === "breq") this.#onRequest(f as Incoming);
        else if (f.t === "res") this.#onResponse(f as Extract<Frame, { t: "res"; ok: boolean }>);
        else if (f.t === "bin") this.#onBinary(f as BinaryAnswer);
        // Unknown kinds: ignored, for forward compatibility.
      }
    });
    pipe.onClose((reason) => this.#shutdown(reason));
    this.#send({ t: "hello", v: PROTOCOL_VERSION, ...options.hello });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get peerHello(): Hello | undefined {
    return this.#peerHello;
  }

  /**
   * Holds the peer's requests from now on, unserved, until `admit()`; at most
   * MAX_UNADMITTED_REQUESTS of them, more closes the session.
   */
  hold(): void {
    this.#admitted = false;
  }

  /** Serves the requests held since `hold()`, in order, and the ones that follow. */
  admit(): void {
    if (this.#admitted) return;
    this.#admitted = true;
    this.#serveHeld();
  }

  /**
   * Serves `method` for the peer. `fn` gets params already checked against the
   * method's schema; params that fail it are answered bad_input without calling `fn`.
   * @throws {TypeError} for a method missing from methods.ts
   */
  handle<M extends MethodName>(method: M, fn: Handler<M>): void {
    if (!Object.hasOwn(schemas, method)) {
      throw new TypeError(`no such method in methods.ts: ${method}`);
    }
    this.#handlers.set(method, (params) => fn(check(method, "params", params)));
  }

  /**
   * Serves a bulk method (protocol/bulk.ts) with one handler for both wire
   * forms: `fn` gets the decoded page, from a binary request or from JSON
   * params that passed their schema; a result page goes back in binary to a
   * peer that lists bulk1, else as JSON.
   */
  handleBulk<M extends BulkMethod>(
    method: M,
    fn: (
      params: BulkForms[M]["params"],
    ) => Promise<BulkForms[M]["result"]> | BulkForms[M]["result"],
  ): void {
    const codec = BULK_CODECS[method] as { params?: AnyPage; result?: AnyPage };
    const params = codec.params;
    const call = fn as (p: unknown) => unknown;
    this.#handlers.set(method, (p) => {
      const checked = check(method, "params", p);
      return call(params ? params.fromJson(checked) : checked);
    });
    if (params) this.#bulkHandlers.set(method, (bytes) => call(params.decode(bytes)));
    if (codec.result) this.#resultPages.set(method, codec.result);
  }

  /**
   * Sends a bulk method's request and waits for its answer (see handleBulk):
   * in binary where the peer lists bulk1, else as JSON; a result page comes
   * back decoded either way. Fails as {@linkcode request} does.
   */
  requestBulk<M extends BulkMethod>(
    method: M,
    params: BulkForms[M]["params"],
    timeoutMs: number = this.#requestTimeoutMs,
  ): Promise<BulkForms[M]["result"]> {
    const codec = BULK_CODECS[method] as { params?: AnyPage; result?: AnyPage };
    const binary = peerHas(this.#peerHello, BULK_FEATURE);
    return this.#ask(
      method,
      timeoutMs,
      codec.result,
      (id) =>
        !codec.params
          ? { t: "req", id, m: method, p: params }
          : binary
          ? { t: "breq", id, m: method, bytes: codec.params.encode(params) }
          : { t: "req", id, m: method, p: codec.params.toJson(params) },
    ) as Promise<
      BulkForms[M]["result"]
    >;
  }

  /**
   * Sends a request and waits for its answer, checked against the method's schema.
   * @throws {RojError} with the peer's code on refusal; bad_input when the answer
   * fails the schema; timeout; unreachable when the session closes.
   * @throws {TypeError} for a method missing from methods.ts (nothing is sent)
   */
  request<M extends MethodName>(
    method: M,
    params: ParamsOf<M>,
    timeoutMs: number = this.#requestTimeoutMs,
  ): Promise<ResultOf<M>> {
    if (!Object.hasOwn(schemas, method)) {
      return Promise.reject(new TypeError(`no such method in methods.ts: ${method}`));
    }
    return this.#ask(
      method,
      timeoutMs,
      undefined,
      (id) => ({ t: "req", id, m: method, p: params }),
    );
  }

  #ask<M extends MethodName>(
    method: M,
    timeoutMs: number,
    page: AnyPage | undefined,
    frame: (id: number) => Frame,
  ): Promise<ResultOf<M>> {
    if (this.#closed) {
      return Promise.reject(new RojError("unreachable", "session is closed", { retryable: true }));
    }
    const id = this.#nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new RojError("timeout", `${method} got no answer in ${timeoutMs} ms`, {
            retryable: true,
          }),
        );
      }, timeoutMs);
      this.#pending.set(id, {
        method,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer,
        ...(page ? { page } : {}),
      });
      try {
        this.#send(frame(id));
      } catch (err) {
        this.#clock.clearTimeout(timer);
        this.#pending.delete(id);
        reject(err);
      }
    });
  }

  onClose(listener: (reason?: string) => void): void {
    if (this.#closed) queueMicrotask(() => listener(this.#closeReason));
    else this.#closeListeners.push(listener);
  }

  close(reason?: string): void {
    if (this.#closed) return;
    this.#closeReason ??= reason;
    this.pipe.close(reason);
    this.#shutdown(reason);
  }

  #shutdown(reason?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason ??= reason;
    for (const [, p] of this.#pending) {
      this.#clock.clearTimeout(p.timer);
      p.reject(
        new RojError(
          "unreachable",
          `session closed with ${p.method} unanswered: ${this.#closeReason ?? "closed"}`,
          { retryable: true },
        ),
      );
    }
    this.#pending.clear();
    for (const l of this.#closeListeners.splice(0)) l(this.#closeReason);
  }

  #send(frame: Frame): void {
    if (this.#closed) return;
    this.pipe.send(encodeFrame(frame));
    const waiting = this.pipe.buffered?.() ?? 0;
    if (waiting > this.#hard) {
      this.close(`peer is not reading: ${Math.round(waiting / 2 ** 20)} MiB waiting for it`);
    } else if (waiting > this.#soft && !this.#paused) {
      this.#paused = true;
      this.pipe.pause?.();
    }
  }

  /** The backlog went out: read the peer again and serve what it asked meanwhile. */
  #drained(): void {
    if (!this.#paused || this.#closed || (this.pipe.buffered?.() ?? 0) > this.#soft) return;
    this.#paused = false;
    this.pipe.resume?.();
    this.#serveHeld();
  }

  /** Serves held requests one at a time, so that their answers cannot pile up at once. */
  async #serveHeld(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#held.length > 0 && !this.#paused && this.#admitted && !this.#closed) {
        await this.#onRequest(this.#held.shift()!);
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #onRequest(req: Incoming): Promise<void> {
    // Held requests go first, in order; a new one joins them while any wait.
    if (!this.#admitted || this.#paused || (this.#held.length > 0 && !this.#pumping)) {
      if (!this.#admitted && this.#held.length >= MAX_UNADMITTED_REQUESTS) {
        return this.close("too many requests before the session was registered");
      }
      if (this.#held.length >= MAX_HELD_REQUESTS) {
        return this.close("peer asks without reading the answers");
      }
      this.#held.push(req);
      return;
    }
    const fn = req.t === "breq" ? this.#bulkHandlers.get(req.m) : this.#handlers.get(req.m);
    if (!fn) {
      return this.#send({
        t: "res",
        id: req.id,
        ok: false,
        code: "unknown_method",
        msg: `unknown method ${req.m}`,
      });
    }
    if (this.#inFlight >= this.#maxInFlight) {
      return this.#send({
        t: "res",
        id: req.id,
        ok: false,
        code: "busy",
        msg: "too many requests at once",
      });
    }
    this.#inFlight++;
    try {
      const r = await (fn as (p: unknown) => unknown)(req.t === "breq" ? req.bytes : req.p);
      const page = this.#resultPages.get(req.m);
      if (answersBinary(req.m)) {
        this.#send({ t: "bin", id: req.id, bytes: (r as { b: Uint8Array }).b } as BinaryAnswer);
      } else if (page && peerHas(this.#peerHello, BULK_FEATURE)) {
        this.#send({ t: "bin", id: req.id, bytes: page.encode(r) } as BinaryAnswer);
      } else this.#send({ t: "res", id: req.id, ok: true, r: page ? page.toJson(r) : r ?? null });
    } catch (err) {
      if (!(err instanceof RojError)) this.#onInternalError?.(req.m, err);
      const e = err instanceof RojError
        ? err
        : new RojError("internal", "internal error", { cause: err });
      try {
        this.#send({
          t: "res",
          id: req.id,
          ok: false,
          code: e.code,
          msg: e.message.slice(0, 1000),
        });
      } catch { /* closed */ }
    } finally {
      this.#inFlight--;
    }
  }

  /** A binary answer: only to a request of a method answered so (else the peer is confused). */
  #onBinary(f: BinaryAnswer): void {
    const p = this.#pending.get(f.id);
    if (!p) return; // late answer to a request that timed out
    if (!answersBinary(p.method) && !(p.page && this.#bulk)) {
      return this.close(`binary answer to ${p.method}`);
    }
    this.#pending.delete(f.id);
    this.#clock.clearTimeout(p.timer);
    try {
      p.resolve(p.page ? p.page.decode(f.bytes) : check(p.method, "result", { b: f.bytes }));
    } catch (err) {
      p.reject(err as RojError);
    }
  }

  #onResponse(res: Extract<Frame, { t: "res"; ok: boolean }>): void {
    const p = this.#pending.get(res.id);
    if (!p) return; // late answer to a request that timed out
    this.#pending.delete(res.id);
    this.#clock.clearTimeout(p.timer);
    if (res.ok) {
      let result: unknown;
      try {
        result = check(p.method, "result", (res as { r: unknown }).r);
        if (p.page) result = p.page.fromJson(result);
      } catch (err) {
        return p.reject(err as RojError);
      }
      p.resolve(result);
    } else {
      const r = res as { code: string; msg: string };
      p.reject(new RojError(knownCode(r.code), r.msg));
    }
  }
}

const PEER_CODES = new Set([
  "bad_input",
  "not_found",
  "refused",
  "busy",
  "unknown_method",
  "protocol",
  "timeout",
  "internal",
  "bad_signature",
  "wrong_chat",
  "seq_gap",
]);
function knownCode(code: string): RojError["code"] {
  return (PEER_CODES.has(code) ? code : "protocol") as RojError["code"];
}
