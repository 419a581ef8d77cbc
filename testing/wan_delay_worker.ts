/**
 * The worker behind wan_delay.ts: delaying TCP forwarders on their own thread,
 * so the 30-100 nodes saturating the main thread do not stretch the delay.
 *
 * Messages in: {op:"open", id, host, port}, {op:"target", id, host, port},
 * {op:"close", id}. Out: {id, port} once listening, {id, closed:true},
 * {id, error}. Every byte is held `oneWayMs ± jitterMs` in each direction; a
 * chunk never overtakes the one before it (TCP keeps order, so jitter here
 * stretches a burst instead of reordering it).
 */
/// <reference lib="deno.worker" />
import { seededRandom } from "../node/clock/mod.ts";

interface Init {
  readonly oneWayMs: number;
  readonly jitterMs: number;
  readonly seed: number;
}

/** Bytes one direction of one connection may hold before its reader waits. */
const MAX_HELD_BYTES = 4 << 20;

let init: Init | undefined;
let rand = () => 0.5;

interface Forwarder {
  listener: Deno.Listener;
  target: Promise<Deno.NetAddr>;
  setTarget: (a: Deno.NetAddr) => void;
  conns: Set<Deno.Conn>;
}
const forwarders = new Map<number, Forwarder>();

function delay(): number {
  const i = init!;
  return Math.max(0, i.oneWayMs + (rand() * 2 - 1) * i.jitterMs);
}

/** Copies `from` to `to`, each chunk due `delay()` after it was read, in order. */
async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const queue: { due: number; bytes: Uint8Array }[] = [];
  let held = 0;
  let readerDone = false;
  let wake: (() => void) | undefined;
  let roomWake: (() => void) | undefined;
  let broken = false;
  const writer = (async () => {
    for (;;) {
      const next = queue.shift();
      if (!next) {
        if (readerDone) return;
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      const wait = next.due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      let off = 0;
      while (off < next.bytes.length) off += await to.write(next.bytes.subarray(off));
      held -= next.bytes.length;
      roomWake?.();
    }
  })().catch(() => {
    // The far side went away: stop reading this side too.
    broken = true;
    roomWake?.();
    try {
      from.close();
    } catch { /* already */ }
  });
  let lastDue = 0;
  try {
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      while (held > MAX_HELD_BYTES && !broken) await new Promise<void>((r) => (roomWake = r));
      if (broken) break;
      const n = await from.read(buf);
      if (n === null) break;
      lastDue = Math.max(lastDue, performance.now() + delay());
      queue.push({ due: lastDue, bytes: buf.slice(0, n) });
      held += n;
      wake?.();
    }
  } catch { /* the other side went away */ }
  readerDone = true;
  wake?.();
  await writer;
  try {
    if (!broken) await to.closeWrite();
  } catch { /* closed under us */ }
}

async function serve(id: number, f: Forwarder): Promise<void> {
  for await (const inbound of f.listener) {
    f.conns.add(inbound);
    (async () => {
      let outbound: Deno.Conn | undefined;
      try {
        const t = await f.target;
        outbound = await Deno.connect({ hostname: t.hostname, port: t.port });
        f.conns.add(outbound);
        await Promise.all([pipe(inbound, outbound), pipe(outbound, inbound)]);
      } catch { /* the node is gone */ }
      for (const c of [inbound, outbound]) {
        if (!c) continue;
        f.conns.delete(c);
        try {
          c.close();
        } catch { /* already */ }
      }
    })();
  }
  void id;
}

self.onmessage = (e: MessageEvent) => {
  const m = e.data;
  if (m.op === "init") {
    init = m as Init;
    rand = seededRandom(init.seed);
    return;
  }
  try {
    if (m.op === "open") {
      const listener = Deno.listen({ hostname: m.host, port: m.port });
      let setTarget!: (a: Deno.NetAddr) => void;
      const target = new Promise<Deno.NetAddr>((r) => (setTarget = r));
      const f: Forwarder = { listener, target, setTarget, conns: new Set() };
      forwarders.set(m.id, f);
      serve(m.id, f).catch(() => {});
      self.postMessage({ id: m.id, port: (listener.addr as Deno.NetAddr).port });
    } else if (m.op === "target") {
      forwarders.get(m.id)?.setTarget({ transport: "tcp", hostname: m.host, port: m.port });
    } else if (m.op === "close") {
      const f = forwarders.get(m.id);
      forwarders.delete(m.id);
      if (f) {
        try {
          f.listener.close();
        } catch { /* already */ }
        for (const c of f.conns) {
          try {
            c.close();
          } catch { /* already */ }
        }
      }
      self.postMessage({ id: m.id, closed: true });
    }
  } catch (err) {
    self.postMessage({ id: m.id, error: String(err) });
  }
};
