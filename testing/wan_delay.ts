/**
 * A WAN in front of loopback nodes: each node listens on a private address,
 * and a forwarder on its public address holds every byte `oneWayMs ± jitterMs`
 * each way, so a round trip over a session costs 2 × oneWayMs like a path
 * across the Internet. The node advertises the public address, so every
 * session, dial-back and lookup to it crosses the delay.
 *
 * Why in user space: this machine's kernel (a Firecracker VM) has no
 * sch_netem, so `tc qdisc … netem` is refused. The forwarders run on a worker
 * thread of their own; loss is not modelled (TCP would hide it as delay).
 *
 *   await using wan = await startWanDelay({ oneWayMs: 20, jitterMs: 5, seed });
 *   const door = await wan.open("127.1.0.1", 0);   // public side
 *   door.target("127.250.0.1", nodePort);          // where the node listens
 */
export interface WanOptions {
  /** Delay added each way, so a round trip adds twice this. */
  readonly oneWayMs: number;
  /** Each chunk's delay varies by up to ± this (never reordering bytes). @default 0 */
  readonly jitterMs?: number;
  /** Seeds the jitter. @default 1 */
  readonly seed?: number;
}

export interface WanDoor {
  /** The public port the forwarder listens on. */
  readonly port: number;
  /** Where to forward; connections that came before wait for it. */
  target(host: string, port: number): void;
  /** Stops listening and cuts every connection through this door. */
  close(): Promise<void>;
}

export interface WanDelay extends AsyncDisposable {
  readonly options: WanOptions;
  open(host: string, port: number): Promise<WanDoor>;
  close(): Promise<void>;
}

export function startWanDelay(options: WanOptions): Promise<WanDelay> {
  const worker = new Worker(new URL("./wan_delay_worker.ts", import.meta.url), {
    type: "module",
  });
  worker.postMessage({
    op: "init",
    oneWayMs: options.oneWayMs,
    jitterMs: options.jitterMs ?? 0,
    seed: options.seed ?? 1,
  });
  let nextId = 1;
  const pending = new Map<number, (m: { port?: number; error?: string }) => void>();
  worker.onmessage = (e: MessageEvent) => {
    const reply = pending.get(e.data.id);
    pending.delete(e.data.id);
    reply?.(e.data);
  };
  const ask = (m: Record<string, unknown>) =>
    new Promise<{ port?: number; error?: string }>((resolve, reject) => {
      const id = m.id as number;
      pending.set(id, (r) => r.error ? reject(new Error(`wan door: ${r.error}`)) : resolve(r));
      worker.postMessage(m);
    });
  const doors = new Set<number>();
  const close = async () => {
    await Promise.all([...doors].map((id) => ask({ op: "close", id })));
    worker.terminate();
  };
  return Promise.resolve({
    options,
    async open(host, port) {
      const id = nextId++;
      const r = await ask({ op: "open", id, host, port });
      doors.add(id);
      return {
        port: r.port!,
        target: (h, p) => worker.postMessage({ op: "target", id, host: h, port: p }),
        close: async () => {
          if (!doors.delete(id)) return;
          await ask({ op: "close", id });
        },
      };
    },
    close,
    [Symbol.asyncDispose]: close,
  });
}
