/**
 * A Pipe is an ordered, reliable byte stream between two authenticated peers:
 * an SSH channel in production, an in-memory pair in unit tests (and in the
 * memory transport, memory.ts). The protocol layer frames messages on top of
 * it and never sees SSH.
 */
import { type Clock, systemClock } from "../clock/mod.ts";

export interface Pipe {
  /** Queues bytes for the peer. Ignored after close. */
  send(data: Uint8Array): void;
  /** Receives every chunk from the peer, in order. One listener. */
  onData(listener: (chunk: Uint8Array) => void): void;
  /**
   * Called once when either side closes: on the side that closed, with the
   * reason it gave; on the far side with none (an SSH channel close carries
   * no text), unless the stream failed. A listener set after the close is
   * still called.
   */
  onClose(listener: (reason?: string) => void): void;
  /** Closes the pipe (and, for SSH, the channel). Idempotent. */
  close(reason?: string): void;
  /** "host:port" of the far end, for logs. */
  readonly remote: string;
  /**
   * Bytes sent but not yet taken by the peer (an SSH channel waits for the
   * peer's window). Absent where nothing queues (in-memory pipes).
   */
  buffered?(): number;
  /** Stops delivering the peer's data: an SSH channel then stops extending the peer's window. */
  pause?(): void;
  resume?(): void;
  /** Called whenever what was buffered has gone out. */
  onDrain?(listener: () => void): void;
}

/** Options for {@linkcode memoryPipePair}. */
export interface MemoryPipeOptions {
  /**
   * One-way delay of every chunk and of the close, in ms on `clock`. With 0
   * they arrive a microtask later, like a socket's next read. @default 0
   */
  readonly delayMs?: number;
  /** The clock the delay runs on. @default systemClock */
  readonly clock?: Clock;
}

interface End {
  data?: (c: Uint8Array) => void;
  close?: (r?: string) => void;
  /** This end may send no more (it closed, or the far end's close arrived). */
  closed: boolean;
  /** Its close listener has run (or is due to, for a listener set later). */
  ended: boolean;
  reason: string | undefined;
  backlog: Uint8Array[];
}

/**
 * Two connected in-memory pipes that behave as an SSH channel does: chunks
 * arrive asynchronously and in order, what was sent before a close still
 * arrives before it, and the far end learns of the close without its reason.
 */
export function memoryPipePair(
  remoteA = "memory:a",
  remoteB = "memory:b",
  options: MemoryPipeOptions = {},
): [Pipe, Pipe] {
  const delayMs = options.delayMs ?? 0;
  const clock = options.clock ?? systemClock;
  const later = delayMs > 0
    ? (fn: () => void) => void clock.setTimeout(fn, delayMs)
    : (fn: () => void) => queueMicrotask(fn);
  const end = (e: End, reason: string | undefined) => {
    if (e.ended) return;
    e.ended = true;
    e.reason = reason;
    e.backlog = [];
    e.close?.(reason);
  };
  const make = (me: End, other: End, remote: string): Pipe => ({
    remote,
    send(data) {
      if (me.closed) return;
      const copy = data.slice();
      later(() => {
        if (other.ended) return;
        if (other.data) other.data(copy);
        else other.backlog.push(copy);
      });
    },
    onData(listener) {
      me.data = listener;
      for (const c of me.backlog.splice(0)) listener(c);
    },
    onClose(listener) {
      me.close = listener;
      if (me.ended) queueMicrotask(() => listener(me.reason));
    },
    close(reason) {
      if (me.closed) return;
      me.closed = true;
      queueMicrotask(() => end(me, reason));
      // Behind whatever was sent before it, like a channel's close message.
      later(() => {
        other.closed = true;
        end(other, undefined);
      });
    },
  });
  const a: End = { closed: false, ended: false, reason: undefined, backlog: [] };
  const b: End = { closed: false, ended: false, reason: undefined, backlog: [] };
  return [make(a, b, remoteB), make(b, a, remoteA)];
}

/**
 * `pipe`, with `hook` run once it closes, from either side, before the
 * pipe's own listener (which may be set later): the connection that carries
 * it is closed, or its listener forgets it.
 */
export function closingWith(pipe: Pipe, hook: () => void): Pipe {
  let listener: ((reason?: string) => void) | undefined;
  let closed: { reason?: string } | undefined;
  pipe.onClose((reason) => {
    closed = reason === undefined ? {} : { reason };
    hook();
    listener?.(reason);
  });
  return {
    remote: pipe.remote,
    send: (d) => pipe.send(d),
    onData: (l) => pipe.onData(l),
    onClose: (l) => {
      listener = l;
      if (closed) queueMicrotask(() => l(closed!.reason));
    },
    close: (r) => pipe.close(r),
  };
}
