/** Starting real nodes in this process, each on its own loopback address. */
import { initProfile } from "../node/home/mod.ts";
import { type NodeOptions, RojNode } from "../node/node.ts";
import type { NodeEvent } from "../node/api/mod.ts";
import type { MailboxLimits } from "../node/mailbox/mod.ts";
import { dialSsh, type Pipe, type SshClient } from "../node/transport/mod.ts";

export interface TestNode extends AsyncDisposable {
  readonly node: RojNode;
  readonly dir: string;
  readonly events: NodeEvent[];
  /**
   * Resolves with the first event (past or future) that matches, looking at
   * `events` from index `from` on (what came after a moment: `events.length` then).
   */
  waitFor(match: (e: NodeEvent) => boolean, timeoutMs?: number, from?: number): Promise<NodeEvent>;
  /** Closes the node, keeping its data folder. */
  stop(): Promise<void>;
}

export interface TestNodeOptions {
  /** Loopback address to listen on, e.g. "127.0.0.2". */
  host?: string;
  port?: number;
  /** Reuse an existing data folder (restart). */
  dir?: string;
  verbose?: boolean;
  /** Start as a passive anchor. */
  passive?: boolean;
  /** A passive anchor's mailbox bounds. */
  mailbox?: Partial<MailboxLimits>;
  /** The node's clock. @default Date.now */
  now?: () => number;
  /** Publish these addresses instead of the listening one. */
  advertise?: string[];
  /** Relay limits and timers. */
  relay?: NodeOptions["relay"];
  /** Serve QUIC and punch. @default true */
  quic?: boolean;
  /** Carry 1:1 mail between contacts (`false`: `--no-carry`). @default true */
  carry?: boolean;
  /** Features left out of the hello, as an older version's node. */
  omitFeatures?: string[];
  /** File limits (node/files). */
  maxFileSize?: number;
  fileQuota?: number;
  /** Room file transfers keep free on disk (`--min-free-disk`). */
  minFreeDisk?: number;
  /** An anchor's bounds on the group files it holds. */
  anchorFiles?: NodeOptions["anchorFiles"];
}

/** Polls `check` until it is true. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function startTestNode(
  name: string,
  options: TestNodeOptions = {},
): Promise<TestNode> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: `roj-${name}-` });
  if (!options.dir) (await initProfile(dir, { name })).store.close();
  const events: NodeEvent[] = [];
  const node = await RojNode.open({
    dataDir: dir,
    ...(options.now ? { now: options.now } : {}),
    ...(options.verbose || Deno.env.get("ROJ_VERBOSE")
      ? { log: (l: string) => console.log(`[${name}] ${l}`) }
      : {}),
    listen: { host: options.host ?? "127.0.0.1", port: options.port ?? 0 },
    dialTimeoutMs: 2000,
    passive: options.passive ?? false,
    ...(options.mailbox ? { mailbox: options.mailbox } : {}),
    ...(options.advertise ? { advertise: options.advertise } : {}),
    ...(options.relay ? { relay: options.relay } : {}),
    ...(options.quic !== undefined ? { quic: options.quic } : {}),
    ...(options.carry !== undefined ? { carry: options.carry } : {}),
    ...(options.omitFeatures ? { omitFeatures: options.omitFeatures } : {}),
    ...(options.maxFileSize !== undefined ? { maxFileSize: options.maxFileSize } : {}),
    ...(options.fileQuota !== undefined ? { fileQuota: options.fileQuota } : {}),
    ...(options.minFreeDisk !== undefined ? { minFreeDisk: options.minFreeDisk } : {}),
    ...(options.anchorFiles ? { anchorFiles: options.anchorFiles } : {}),
  });
  const waiters = new Set<{ match: (e: NodeEvent) => boolean; resolve: (e: NodeEvent) => void }>();
  node.subscribe((e) => {
    events.push(e);
    for (const w of waiters) {
      if (w.match(e)) {
        waiters.delete(w);
        w.resolve(e);
      }
    }
  });
  await node.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await node.close();
  };
  return {
    node,
    dir,
    events,
    stop,
    waitFor(match, timeoutMs = 10_000, from = 0) {
      const past = events.slice(from).find(match);
      if (past) return Promise.resolve(past);
      return new Promise((resolve, reject) => {
        const w = { match, resolve: (e: NodeEvent) => (clearTimeout(timer), resolve(e)) };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`${name}: timed out waiting for an event`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    [Symbol.asyncDispose]: async () => {
      await stop();
      if (!options.dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Two started nodes that are each other's contacts, with a live session. */
export async function befriend(a: TestNode, b: TestNode): Promise<void> {
  const invite = await a.node.call("invite", {});
  await b.node.call("add", { invite: invite.text });
  // By key: an anchor names its members by a tag, not the name they gave.
  const bKey = b.node.keyLine.split(" ").slice(0, 2).join(" ");
  await until(
    async () =>
      (await a.node.call("contacts", {})).some((c) => c.publicKey.startsWith(bKey) && c.online),
    5000,
    "session up",
  );
}

/**
 * SSH to `to` with `as`'s key (its node stopped first, or its redials would
 * replace this session) and the roj subsystem opened: a raw pipe to speak
 * frames on, as a hostile contact would.
 */
export async function rawRojPipe(
  as: TestNode,
  to: TestNode,
): Promise<{ client: SshClient; pipe: Pipe }> {
  const client = await dialSsh({
    keyPair: as.node.profile.keyPair,
    to: to.node.address!,
    expectedKey: to.node.publicKey,
    expectedName: to.node.name,
  });
  try {
    return { client, pipe: await client.openRoj() };
  } catch (err) {
    client.close();
    throw err;
  }
}

/** `member` adds `anchor` from its invite and has a live session with it. */
export async function joinAnchor(member: TestNode, anchor: TestNode): Promise<void> {
  const invite = await anchor.node.call("invite", {});
  await member.node.call("add", { invite: invite.text });
  await until(
    async () =>
      (await member.node.call("peers", {})).some((p) =>
        p.kind === "anchor" && p.state === "connected"
      ),
    5000,
    "anchor joined",
  );
}
