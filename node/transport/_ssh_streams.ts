/**
 * The byte streams around an ssh2 connection: a roj channel as a Pipe, a
 * channel carried as a stream that can hold an SSH session of its own, and
 * one TCP write per tick.
 */
import net from "node:net";
import process from "node:process";
import { Duplex } from "node:stream";
import { Buffer } from "node:buffer";
import type { Pipe } from "./pipe.ts";

// deno-lint-ignore no-explicit-any
type Listener = (...args: any[]) => void;
/** The part of an ssh2 channel we touch (ssh2 ships no types). */
export interface Ssh2Channel {
  on(event: string, listener: Listener): void;
  write(data: Uint8Array): boolean;
  close(): void;
  pause(): void;
  resume(): void;
  /** Bytes queued behind the peer's window (the channel is a Node Writable). */
  readonly writableLength?: number;
}

/**
 * Sends what ssh2 writes in one tick as one TCP write. ssh2 writes each
 * packet in up to three pieces (with chacha20-poly1305: the sealed length, the
 * body, the MAC), and under Deno each write to a loopback socket is a system
 * call that runs the receiver's TCP path too; corking until the tick ends
 * cuts a cascade's writes by about three.
 */
export function coalesceWrites(sock: net.Socket): void {
  const write = sock.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    sock.uncork();
  };
  sock.write = function (this: net.Socket, ...args: Parameters<net.Socket["write"]>) {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    return write.apply(this, args);
  } as net.Socket["write"];
}

export function channelPipe(ch: Ssh2Channel, remote: string): Pipe {
  let closed = false;
  let onClose: ((reason?: string) => void) | undefined;
  let reason: string | undefined;
  const finish = () => {
    if (closed) return;
    closed = true;
    onClose?.(reason);
  };
  ch.on("close", finish);
  // Always consume: a Node stream that is never read never ends, and then never closes.
  let onData: ((chunk: Uint8Array) => void) | undefined;
  const backlog: Uint8Array[] = [];
  ch.on("data", (chunk: Uint8Array) => (onData ? onData(chunk) : backlog.push(chunk)));
  ch.on("error", (err: Error) => {
    reason ??= err.message;
  });
  return {
    remote,
    send(data) {
      if (!closed) ch.write(data);
    },
    onData(listener) {
      onData = listener;
      for (const chunk of backlog.splice(0)) listener(chunk);
    },
    onClose(listener) {
      onClose = listener;
      if (closed) listener(reason);
    },
    buffered: () => ch.writableLength ?? 0,
    pause: () => ch.pause(),
    resume: () => ch.resume(),
    onDrain(listener) {
      ch.on("drain", listener);
    },
    close(why) {
      if (closed) return;
      reason ??= why;
      try {
        ch.close();
      } catch {
        finish();
      }
    },
  };
}

/**
 * `inner` (an SSH channel) made fit to carry another SSH session. ssh2's
 * chacha20-poly1305 cipher keeps its nonce in a module-wide buffer and writes
 * the encrypted length to its socket before it encrypts the rest: if that
 * socket is a channel of another ssh2 connection in this process, the write
 * encrypts synchronously with the same buffer and the inner packet goes out
 * under the wrong nonce (its MAC still checks; it decrypts to garbage). So
 * writes reach the channel a microtask later, in order, and reads are copied.
 *
 * What the carried session writes in one run (ssh2 writes each packet in
 * three pieces: length, body, MAC, and a 256 KiB frame as eight packets)
 * reaches the channel as one write: else each piece is a packet of the
 * carrying connection, sealed, sent, spliced by the relay and opened on its
 * own, three times the packets for the same bytes.
 */
export function nestable(inner: Duplex): Duplex {
  let batch: Uint8Array[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch);
    batch = [];
    inner.write(data);
  };
  const outer: Duplex = new Duplex({
    read: () => inner.resume(),
    write: (chunk: Uint8Array, _enc, done) => {
      if (batch.length === 0) queueMicrotask(flush);
      batch.push(chunk);
      // Taken at once (so the rest of the run joins the batch) unless the channel is backed up.
      if (inner.writableLength >= inner.writableHighWaterMark) inner.once("drain", () => done());
      else done();
    },
    final: (done) => {
      flush();
      inner.end(done);
    },
    destroy: (err, done) => {
      inner.destroy();
      done(err);
    },
  });
  inner.on("data", (chunk: Uint8Array) => {
    if (!outer.push(Buffer.from(chunk))) inner.pause();
  });
  inner.on("end", () => outer.push(null));
  inner.on("close", () => outer.destroy());
  inner.on("error", (err: Error) => outer.destroy(err));
  return outer;
}
