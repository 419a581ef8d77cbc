/**
 * A verifier that checks large batches of Ed25519 signatures on worker
 * threads, so that a big merge uses more than one core: the log passes it to
 * `ChatLog` as its verifier, and merges hand it whole steps at once while the
 * calling thread decodes and stores. Small batches and single checks stay on
 * the calling thread, where a round trip to a worker would cost more than the
 * check.
 *
 * Workers load `_verify_worker.ts` and so need read access to it (they get the
 * parent's permissions). Where they cannot start (no read permission, a
 * compiled binary without the module, a worker that dies), the pool quietly
 * checks on the calling thread instead: the answers are the same, only slower.
 */
// Types only: importing a value would run the worker's module on this thread.
import type { VerifyAnswer, VerifyJob } from "./_verify_worker.ts";
import { type Clock, systemClock, type TimerId } from "../clock/mod.ts";
import { createVerifier, type SyncVerifier } from "./signer.ts";

/** One signature check: as {@linkcode sshsigCheck} returns it. */
export interface Ed25519Check {
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
  readonly data: Uint8Array;
}

/** Options for {@linkcode createVerifierPool}. */
export interface VerifierPoolOptions {
  /** Worker threads. @default one less than the number of cores, at least 1, at most 4 */
  size?: number;
  /** Batches with fewer checks than this are done on the calling thread. @default 64 */
  minBatch?: number;
  /**
   * The workers stop after this long without a batch, and start again with the
   * next large one: each holds ~15 MB, which a node that caught up once would
   * otherwise keep for good. @default 30000
   */
  idleMs?: number;
  /** @default systemClock */
  clock?: Clock;
}

/** A {@linkcode SyncVerifier} with a batch form that runs on worker threads. */
export interface VerifierPool extends SyncVerifier, Disposable {
  /** True where each check's signature is valid, in order. */
  verifyMany(checks: ReadonlyArray<Ed25519Check>): Promise<boolean[]>;
  /** Workers running now (they start with the first large batch). */
  readonly threads: number;
  /** Workers that have started and take batches; until then batches are checked here. */
  readonly ready: number;
  /** Checks answered by workers so far. */
  readonly offloaded: number;
  /** Starts the workers now if they are not running (a batch is coming). */
  warm(): void;
  /** Stops the workers; pending batches reject. Later calls check on the calling thread. */
  close(): void;
}

const WORKER_URL = new URL("./_verify_worker.ts", import.meta.url);
/** The id of the message a worker sends once it is ready (as in _verify_worker.ts). */
const READY = -1;

interface Pending {
  readonly resolve: (ok: Uint8Array) => void;
  readonly reject: (err: Error) => void;
  readonly checks: ReadonlyArray<Ed25519Check>;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  /** Checks sent and not yet answered. */
  load: number;
  /** The worker has loaded its module and said so. */
  ready: boolean;
}

/**
 * A pool of `size` verifier workers, started on first use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSigner, createVerifierPool, generateKeyPair } from "./mod.ts";
 *
 * const kp = await generateKeyPair("alice");
 * const data = new TextEncoder().encode("hi");
 * const signature = await (await createSigner(kp)).sign(data);
 * using pool = createVerifierPool({ size: 1 });
 * assert.deepEqual(await pool.verifyMany([{ publicKey: kp.publicKey, signature, data }]), [true]);
 * ```
 * @throws {RangeError} if `size` or `minBatch` is not a positive integer.
 */
export function createVerifierPool(opts: VerifierPoolOptions = {}): VerifierPool {
  // One core stays with the calling thread, which decodes and stores meanwhile;
  // each worker costs ~0.1-0.2 s of that thread's time to start.
  const size = opts.size ?? Math.min(4, Math.max(1, (navigator.hardwareConcurrency || 2) - 1));
  const minBatch = opts.minBatch ?? 64;
  const idleMs = opts.idleMs ?? 30_000;
  const clock = opts.clock ?? systemClock;
  for (const [name, v] of [["size", size], ["minBatch", minBatch], ["idleMs", idleMs]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be ≥ 1, got ${v}`);
  }
  const local = createVerifier();
  let slots: Slot[] | null = null;
  /** No workers from now on: closed, not permitted, or one of them failed. */
  let offline = false;
  let nextId = 0;
  let offloaded = 0;
  let idleTimer: TimerId | undefined;

  const checkHere = (checks: ReadonlyArray<Ed25519Check>): boolean[] =>
    checks.map((c) => local.verifySync(c.publicKey, c.signature, c.data));

  /** Terminates the workers; with `reason`, for good (later batches are checked here). */
  function stop(reason: Error, forGood = true): void {
    if (forGood) offline = true;
    clock.clearTimeout(idleTimer);
    idleTimer = undefined;
    const all = slots ?? [];
    slots = null;
    for (const slot of all) {
      slot.worker.terminate();
      for (const p of slot.pending.values()) p.reject(reason);
      slot.pending.clear();
    }
  }

  /** With no batch out, the workers stop in idleMs unless one comes (send clears the timer). */
  function idleSoon(): void {
    if (!slots?.every((s) => s.pending.size === 0)) return;
    clock.clearTimeout(idleTimer);
    idleTimer = clock.setTimeout(() => stop(new Error("idle"), false), idleMs);
    clock.unref(idleTimer);
  }

  function spawn(): Slot {
    const worker = new Worker(WORKER_URL, { type: "module", name: "roj-verify" });
    const slot: Slot = { worker, pending: new Map(), load: 0, ready: false };
    worker.onmessage = (event: MessageEvent<VerifyAnswer>) => {
      if (event.data.id === READY) {
        slot.ready = true;
        return idleSoon();
      }
      const p = slot.pending.get(event.data.id);
      if (!p) return;
      slot.pending.delete(event.data.id);
      slot.load -= p.checks.length;
      offloaded += p.checks.length;
      p.resolve(event.data.ok);
      idleSoon();
    };
    const fail = (event: Event) => {
      event.preventDefault();
      // Every batch still out is checked here instead; no more workers after that.
      const orphans: Pending[] = [];
      for (const s of slots ?? [slot]) {
        orphans.push(...s.pending.values());
        s.pending.clear();
      }
      stop(new Error("verifier worker stopped"));
      for (const p of orphans) {
        p.resolve(Uint8Array.from(checkHere(p.checks), (ok) => (ok ? 1 : 0)));
      }
    };
    worker.onerror = fail;
    worker.onmessageerror = fail;
    return slot;
  }

  function workers(): Slot[] | null {
    if (slots !== null || offline) return slots;
    const readable = Deno.permissions.querySync?.({ name: "read", path: WORKER_URL });
    if (WORKER_URL.protocol !== "file:" || readable?.state !== "granted") {
      offline = true;
      return null;
    }
    try {
      slots = Array.from({ length: size }, spawn);
    } catch {
      stop(new Error("verifier workers could not start"));
    }
    return slots;
  }

  function send(slot: Slot, checks: ReadonlyArray<Ed25519Check>): Promise<Uint8Array> {
    let bytes = 0;
    for (const c of checks) bytes += 100 + c.data.length;
    const packed = new Uint8Array(bytes);
    let at = 0;
    for (const c of checks) {
      // Wrong-length keys and signatures go as zeros, which never verify.
      const n = c.data.length;
      packed[at] = n >>> 24;
      packed[at + 1] = (n >>> 16) & 0xff;
      packed[at + 2] = (n >>> 8) & 0xff;
      packed[at + 3] = n & 0xff;
      if (c.publicKey.length === 32 && c.signature.length === 64) {
        packed.set(c.publicKey, at + 4);
        packed.set(c.signature, at + 36);
      }
      packed.set(c.data, at + 100);
      at += 100 + n;
    }
    const id = nextId++;
    clock.clearTimeout(idleTimer);
    idleTimer = undefined;
    return new Promise<Uint8Array>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, checks });
      slot.load += checks.length;
      const job: VerifyJob = { id, count: checks.length, packed: packed.buffer };
      slot.worker.postMessage(job, [packed.buffer]);
    });
  }

  return {
    verifySync: local.verifySync,
    verify: local.verify,
    get threads() {
      return slots?.length ?? 0;
    },
    get ready() {
      return slots?.filter((s) => s.ready).length ?? 0;
    },
    get offloaded() {
      return offloaded;
    },
    async verifyMany(checks) {
      if (checks.length < minBatch || workers() === null) return checkHere(checks);
      // Starting a worker takes tens of ms: until one is up, check here, a slice at a
      // time with a turn of the event loop between slices, so that a worker's ready
      // message comes in and it takes the rest (a catch-up's first batch of 1,000 would
      // otherwise all be checked here, and its second too, ~5% of a catch-up's time).
      const here: boolean[] = [];
      let from = 0;
      while (!slots?.some((s) => s.ready)) {
        if (from >= checks.length || offline || slots === null) {
          return here.concat(checkHere(checks.slice(from)));
        }
        here.push(...checkHere(checks.slice(from, from + minBatch)));
        from += minBatch;
        await eventLoopTurn();
      }
      const rest = from > 0 ? checks.slice(from) : checks;
      const pool = slots.filter((s) => s.ready);
      // Equal parts, the largest to the least busy workers.
      const parts = Math.min(pool.length, Math.ceil(rest.length / minBatch));
      const per = Math.ceil(rest.length / parts);
      const order = pool.slice().sort((a, b) => a.load - b.load);
      const answers = await Promise.all(
        Array.from({ length: parts }, (_, i) => {
          const part = rest.slice(i * per, (i + 1) * per);
          // A check whose key or signature has the wrong length is false, as in verifySync.
          return send(order[i]!, part).then((ok) =>
            part.map((c, j) =>
              ok[j] === 1 && c.publicKey.length === 32 && c.signature.length === 64
            )
          );
        }),
      );
      return here.concat(answers.flat());
    },
    warm() {
      // Once up they stop again after idleMs without a batch (the ready message sets the timer).
      workers();
    },
    close() {
      stop(new Error("the verifier pool is closed"));
    },
    [Symbol.dispose]() {
      this.close();
    },
  };
}

/**
 * A macrotask later: what the event loop has waiting (a worker's message)
 * runs first. A MessageChannel's, as setTimeout(0) is clamped to 4 ms when nested.
 */
function eventLoopTurn(): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  return new Promise<void>((resolve) => {
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}
