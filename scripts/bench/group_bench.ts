/**
 * Group figures on real nodes talking SSH over loopback, all in this process:
 *
 * - fan-out: time from one member's `send` until every other member of a
 *   20-member group has the message, with every member connected to every
 *   other (full mesh), and with members connected only to a passive anchor
 *   (its mailbox carries everything);
 * - catch-up: a member back from an offline period takes in 10,000 group
 *   entries from another member, or from the anchor alone; the baseline is
 *   the same 10,000 entries in a 1:1 chat, measured in the same run.
 *
 * Medians of a few runs; on a shared 2-CPU machine the absolute figures move
 * with the load, the ratios less.
 */
import { befriend, startTestNode, type TestNode, until } from "../../testing/nodes.ts";
import { encryptGroupMessage, writeEpoch } from "../../node/groups/mod.ts";
import { toHex } from "../../node/log/mod.ts";
import { median, type Row, withTimeout } from "./_measure.ts";

const MEMBERS = 20;
/** Messages timed for fan-out (after a few not timed). */
const FANOUT_N = 12;
const FANOUT_WARMUP = 2;
const CATCHUP_N = 10_000;
const CATCHUP_RUNS = 3;
const APPEND_BATCH = 1000;
const BODY = "a catch-up message, about as long as a short chat message";

const ms = (t0: number) => performance.now() - t0;
const started = performance.now();
/** Where the run is, on stderr (the tables go to stdout). */
const note = (what: string) =>
  console.error(`group bench: ${what} (${(ms(started) / 1000).toFixed(0)} s)`);
const host = (base: number, i: number) => `127.0.0.${base + i}`;

async function startAll(names: string[], base: number): Promise<TestNode[]> {
  const out: TestNode[] = [];
  for (let i = 0; i < names.length; i++) {
    out.push(await startTestNode(names[i]!, { host: host(base, i) }));
  }
  return out;
}

async function stopAll(nodes: TestNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n[Symbol.asyncDispose]()));
}

/** Resolves when every node in `others` has reported a message with `text` from someone else. */
function everyoneHas(others: TestNode[], text: string): { done: Promise<void>; stop(): void } {
  let left = others.length;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const stops = others.map((t) => {
    let seen = false;
    return t.node.subscribe((e) => {
      if (seen || e.type !== "message" || e.message.mine || e.message.body !== text) return;
      seen = true;
      if (--left === 0) resolve();
    });
  });
  return { done, stop: () => stops.forEach((s) => s()) };
}

/** Founder creates "bench" and adds the others (its contacts); resolves when all have joined. */
async function formGroup(founder: TestNode, others: TestNode[]): Promise<string> {
  const { id } = await founder.node.call("group.create", { name: "bench" });
  await founder.node.call("group.add", { group: "bench", members: others.map((o) => o.node.name) });
  await until(
    () => others.every((o) => o.node.groups.get(id)?.membership.members.size === MEMBERS),
    120_000,
    "every member joins",
  );
  return id;
}

/** Times in ms from the founder's send until all other members have the message. */
async function fanOut(founder: TestNode, others: TestNode[]): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < FANOUT_N + FANOUT_WARMUP; i++) {
    const text = `fan-out probe ${i}`;
    const w = everyoneHas(others, text);
    try {
      const t0 = performance.now();
      await founder.node.call("send", { chat: "bench", text });
      await withTimeout(w.done, 60_000, `probe ${i} reaching everyone`);
      if (i >= FANOUT_WARMUP) times.push(ms(t0));
    } finally {
      w.stop();
    }
  }
  return times;
}

/** Full mesh: every member a contact of every other, sessions up between all. */
async function fanOutMesh(): Promise<{ times: number[]; sessions: number }> {
  const nodes = await startAll(Array.from({ length: MEMBERS }, (_, i) => `m${i}`), 30);
  try {
    for (let i = 0; i < MEMBERS; i++) {
      for (let j = i + 1; j < MEMBERS; j++) await befriend(nodes[i]!, nodes[j]!);
    }
    note("mesh: everyone befriended");
    await formGroup(nodes[0]!, nodes.slice(1));
    note("mesh: group formed");
    const sessions = (await Promise.all(nodes.map((n) => n.node.call("status", {}))))
      .reduce((s, v) => s + v.online, 0) / 2;
    return { times: await fanOut(nodes[0]!, nodes.slice(1)), sessions };
  } finally {
    await stopAll(nodes);
  }
}

/**
 * Via the anchor only: the founder forms the group with each member directly,
 * then everyone drops everyone but the anchor as a contact, so every entry
 * travels member → anchor mailbox → member.
 */
async function fanOutAnchor(): Promise<{ times: number[]; sessions: number }> {
  const anchor = await startTestNode("hive", { host: "127.0.0.60", passive: true });
  const nodes = await startAll(Array.from({ length: MEMBERS }, (_, i) => `a${i}`), 61);
  try {
    for (const n of nodes) await befriend(anchor, n);
    const founder = nodes[0]!;
    const others = nodes.slice(1);
    for (const o of others) await befriend(founder, o);
    note("anchor: contacts made");
    await formGroup(founder, others);
    note("anchor: group formed");
    for (const o of others) {
      await founder.node.call("remove", { name: o.node.name });
      await o.node.call("remove", { name: founder.node.name });
    }
    await until(
      async () => {
        const all = await Promise.all(nodes.map((n) => n.node.call("peers", {})));
        return all.every((ps) =>
          ps.every((p) => p.kind === "anchor") && ps.some((p) => p.state === "connected")
        );
      },
      30_000,
      "only anchor sessions left",
    );
    note("anchor: only anchor sessions left");
    const sessions = (await anchor.node.call("status", {})).online;
    return { times: await fanOut(founder, others), sessions };
  } finally {
    await stopAll(nodes);
    await anchor[Symbol.asyncDispose]();
  }
}

/** Appends `n` entries by `t` to `chat` in batches: group messages encrypted to the current key. */
async function fill(t: TestNode, chat: string, n: number, group: boolean): Promise<void> {
  const me = toHex(t.node.publicKey);
  let body = () => BODY;
  if (group) {
    const epoch = writeEpoch(t.node.groups.get(chat)!.membership, me)!;
    const key = (await t.node.groups.epochKey(chat, epoch.id))!;
    body = () => encryptGroupMessage(key, chat, t.node.publicKey, epoch.id, BODY);
  }
  for (let i = 0; i < n; i += APPEND_BATCH) {
    const items = Array.from({ length: Math.min(APPEND_BATCH, n - i) }, () => ({
      type: "msg",
      body: body(),
    }));
    await t.node.log.appendMany(chat, t.node.signer, items);
  }
}

/** Seconds from `b`'s restart until its copy of `chat` holds `target` entries by `author`. */
async function timeRestart(
  name: string,
  hostIp: string,
  dir: string,
  chat: string,
  author: Uint8Array,
  target: number,
): Promise<number> {
  const t0 = performance.now();
  await using b = await startTestNode(name, { host: hostIp, dir });
  await until(
    async () => ((await b.node.log.heads(chat)).get(toHex(author))?.seq ?? 0) >= target,
    300_000,
    `catch-up of ${target} entries`,
  );
  return ms(t0) / 1000;
}

export type CatchUpKind = "direct" | "group" | "group via anchor";

/**
 * Alice writes CATCHUP_N entries while bob is offline, then bob comes back:
 * seconds until he holds them all. "group via anchor": alice hands them to the
 * anchor and leaves before bob returns.
 */
export async function catchUp(kind: CatchUpKind): Promise<number> {
  const anchor = kind === "group via anchor"
    ? await startTestNode("hive", { host: "127.0.0.90", passive: true })
    : null;
  await using alice = await startTestNode("alice", { host: "127.0.0.91" });
  const first = await startTestNode("bob", { host: "127.0.0.92" });
  const bobDir = first.dir;
  try {
    if (anchor) {
      await befriend(anchor, alice);
      await befriend(anchor, first);
    }
    await befriend(alice, first);
    let chat = alice.node.chat("bob").id;
    if (kind !== "direct") {
      const { id } = await alice.node.call("group.create", { name: "bench" });
      await alice.node.call("group.add", { group: "bench", members: ["bob"] });
      await until(() => first.node.groups.get(id) !== undefined, 30_000, "bob joins");
      chat = id;
    }
    await first.stop();
    await fill(alice, chat, CATCHUP_N, kind !== "direct");
    if (anchor) {
      // One more through the API, so the node hands the anchor everything not handed yet.
      await alice.node.call("send", { chat: "bench", text: "last" });
    }
    const target = (await alice.node.log.heads(chat)).get(toHex(alice.node.publicKey))!.seq;
    if (anchor) {
      await alice.node.mailboxIdle();
      await alice.stop();
    }
    return await timeRestart("bob", "127.0.0.92", bobDir, chat, alice.node.publicKey, target);
  } finally {
    await first.stop();
    await anchor?.[Symbol.asyncDispose]();
    await Deno.remove(bobDir, { recursive: true }).catch(() => {});
  }
}

export async function benchGroup(): Promise<Row[]> {
  const mesh = await fanOutMesh();
  note(`mesh fan-out: median ${median(mesh.times).toFixed(0)} ms`);
  const viaAnchor = await fanOutAnchor();
  note(`anchor fan-out: median ${median(viaAnchor.times).toFixed(0)} ms`);
  const secs: Record<CatchUpKind, number[]> = {
    direct: [],
    group: [],
    "group via anchor": [],
  };
  // Interleaved, so a change in the machine's load hits every kind alike.
  for (let r = 0; r < CATCHUP_RUNS; r++) {
    for (const kind of Object.keys(secs) as CatchUpKind[]) {
      secs[kind].push(await catchUp(kind));
      note(`catch-up ${kind}, run ${r + 1}: ${secs[kind].at(-1)!.toFixed(2)} s`);
    }
  }
  const rate = (k: CatchUpKind) => CATCHUP_N / median(secs[k]);
  const n = CATCHUP_N.toLocaleString("en-US");
  return [
    {
      name: `fan-out, full mesh: send until all ${MEMBERS - 1} others have it`,
      value: median(mesh.times),
      unit: "ms",
      note: `${FANOUT_N} messages; ${mesh.sessions} sessions; max ${
        Math.max(...mesh.times).toFixed(0)
      } ms`,
    },
    {
      name: `fan-out, via the anchor only: send until all ${MEMBERS - 1} others have it`,
      value: median(viaAnchor.times),
      unit: "ms",
      note: `${FANOUT_N} messages; ${viaAnchor.sessions} sessions, all with the anchor; max ${
        Math.max(...viaAnchor.times).toFixed(0)
      } ms`,
    },
    {
      name: `baseline: 1:1 catch-up of ${n} entries, restart until held`,
      value: rate("direct"),
      unit: "entries/s",
      note: `${median(secs.direct).toFixed(2)} s, median of ${CATCHUP_RUNS}`,
    },
    {
      name: `group catch-up of ${n} entries from a member`,
      value: rate("group"),
      unit: "entries/s",
      note: `${median(secs.group).toFixed(2)} s, median of ${CATCHUP_RUNS}; ${
        (rate("group") / rate("direct") * 100).toFixed(0)
      }% of the 1:1 rate`,
    },
    {
      name: `group catch-up of ${n} entries from the anchor alone`,
      value: rate("group via anchor"),
      unit: "entries/s",
      note: `${median(secs["group via anchor"]).toFixed(2)} s, median of ${CATCHUP_RUNS}; ${
        (rate("group via anchor") / rate("direct") * 100).toFixed(0)
      }% of the 1:1 rate`,
    },
  ];
}
