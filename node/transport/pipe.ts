/**
 * A Pipe is an ordered, reliable byte stream between two authenticated peers:
 * an SSH channel in production, an in-memory pair in unit tests. The protocol
 * layer frames messages on top of it and never sees SSH.
 */
export interface Pipe {
  /** Queues bytes for the peer. Ignored after close. */
  send(data: Uint8Array): void;
  /** Receives every chunk from the peer, in order. One listener. */
  onData(listener: (chunk: Uint8Array) => void): void;
  /** Called once when either side closes, with the reason if it failed. */
  onClose(listener: (reason?: string) => void): void;
  /** Closes the pipe (and, for SSH, the channel). Idempotent. */
  close(reason?: string): void;
  /** "host:port" of the far end, for logs. */
  readonly remote: string;
}

/** Two connected in-memory pipes, delivering asynchronously like a socket. */
export function memoryPipePair(remoteA = "memory:a", remoteB = "memory:b"): [Pipe, Pipe] {
  type Side = {
    data?: (c: Uint8Array) => void;
    close?: (r?: string) => void;
    closed: boolean;
    backlog: Uint8Array[];
  };
  const sides: [Side, Side] = [{ closed: false, backlog: [] }, { closed: false, backlog: [] }];
  const make = (me: Side, other: Side, remote: string): Pipe => ({
    remote,
    send(data) {
      if (me.closed) return;
      const copy = data.slice();
      queueMicrotask(() => {
        if (other.closed) return;
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
    },
    close(reason) {
      for (const s of [me, other]) {
        if (s.closed) continue;
        s.closed = true;
        const cb = s.close;
        queueMicrotask(() => cb?.(s === me ? undefined : reason));
      }
    },
  });
  return [make(sides[0], sides[1], remoteB), make(sides[1], sides[0], remoteA)];
}
