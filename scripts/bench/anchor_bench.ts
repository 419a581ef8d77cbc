/**
 * An anchor for a big hive (issue 16 item 6): a `roj run --passive` process
 * holding 10,000 members and 100,000 sealed copies (10 per member), beside the
 * same anchor with 100 members and 1,000 copies in the same run (the size the
 * cascade bench's lookups use). Per anchor:
 *
 * - startup: from spawning the process to its control socket answering;
 * - lookups: addr.get of 16 random held tags per request, 8 in flight, over
 *   one member's SSH session (target >= 50,000 records/s);
 * - mailbox: mbox.put of 500 boxes of 512 bytes per request, then mbox.get
 *   of the same in pages of 1,000 (target >= 5,000 boxes/s each);
 * - RSS after all that (target <= 500 MB).
 *
 * The stores are written directly through the node's store API (the contact
 * records as ContactBook writes them, SealedStore.put per member), not by
 * 10,000 handshakes and uploads: the anchor that is measured opens them as
 * any start does. Every member key is a real generated key.
 */
import { openProfile } from "../../node/home/mod.ts";
import { initProfile } from "../../node/home/mod.ts";
import { SealedStore } from "../../node/discovery/mod.ts";
import { generateKeyPair, type KeyPair } from "../../node/identity/mod.ts";
import { encodeB64, RpcSession } from "../../node/protocol/mod.ts";
import { keys } from "../../node/store/mod.ts";
import { dialSsh } from "../../node/transport/mod.ts";
import { toHex } from "../../node/wire/mod.ts";
import { freePort } from "../../testing/cli_run.ts";
import { spawnNode } from "../../testing/processes.ts";
import { memoryOf } from "../../testing/files.ts";
import { median, type Row } from "./_measure.ts";

const COPIES_PER_MEMBER = 10;
const LOOKUP_BATCH = 16;
const LOOKUP_REQUESTS = 2000;
const IN_FLIGHT = 8;
/** Per run: three runs stay under the anchor's default quota of 50,000 boxes per member. */
const BOXES = 10_000;
const BOX_BYTES = 512;
const MB = 1024 * 1024;

interface Prepared {
  readonly dir: string;
  readonly anchorKey: Uint8Array;
  readonly member: KeyPair;
  readonly tags: string[];
  readonly members: number;
  readonly copies: number;
  readonly writeS: number;
}

/** An anchor's data folder with `members` members holding COPIES_PER_MEMBER copies each. */
export async function prepare(dir: string, members: number): Promise<Prepared> {
  const t0 = performance.now();
  const created = await initProfile(dir, { name: "anchor" });
  created.store.close();
  const profile = await openProfile(dir);
  const tags: string[] = [];
  let member: KeyPair | undefined;
  try {
    const sealed = await SealedStore.open(profile.store);
    const now = Date.now();
    for (let i = 0; i < members; i += 250) {
      const kps = await Promise.all(
        Array.from({ length: Math.min(250, members - i) }, (_, j) => generateKeyPair(`m${i + j}`)),
      );
      member ??= kps[0];
      // Each contact as ContactBook writes it (contact_book.ts #put), 250 a commit.
      const op = profile.store.kv.atomic();
      kps.forEach((kp, j) =>
        op.set(keys.contact(kp.publicKey), {
          publicKey: kp.publicKey,
          name: `member-${i + j}`,
          addresses: [],
          addedAt: now,
          lastSeen: null,
          blocked: false,
          anchor: false,
          recordSeq: 0,
        })
      );
      await op.commit();
      for (const kp of kps) {
        const items = Array.from({ length: COPIES_PER_MEMBER }, () => ({
          tag: crypto.getRandomValues(new Uint8Array(16)),
          blob: crypto.getRandomValues(new Uint8Array(180)),
        }));
        await sealed.put(kp.publicKey, items, now);
        for (const it of items) tags.push(encodeB64(it.tag));
      }
    }
  } finally {
    profile.store.close();
  }
  return {
    dir,
    anchorKey: created.keyPair.publicKey,
    member: member!,
    tags,
    members,
    copies: members * COPIES_PER_MEMBER,
    writeS: (performance.now() - t0) / 1000,
  };
}

interface Figures {
  startMs: number;
  lookups: number;
  put: number;
  get: number;
  rss: number;
  hwm: number;
}

/** Starts the anchor in `p.dir`, measures it as a member would use it, stops it. */
async function measure(p: Prepared, host: string): Promise<Figures> {
  const port = freePort(host);
  const t0 = performance.now();
  const anchor = await spawnNode(p.dir, `${host}:${port}`, "anchor", { args: ["--passive"] });
  const startMs = performance.now() - t0;
  try {
    const client = await dialSsh({
      keyPair: p.member,
      to: { host, port },
      expectedKey: p.anchorKey,
      expectedName: "the anchor",
    });
    const rpc = new RpcSession(await client.openRoj(), {
      hello: { features: ["sync1", "mailbox"], name: "member-0" },
    });
    await rpc.ready;
    try {
      // Lookups.
      const batch = (i: number) =>
        Array.from(
          { length: LOOKUP_BATCH },
          (_, j) => p.tags[(i * 7919 + j * 104_729) % p.tags.length]!,
        );
      const l0 = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (next < LOOKUP_REQUESTS) {
          const res = await rpc.request("addr.get", { tags: batch(next++) }) as {
            items: unknown[];
          };
          if (res.items.length !== LOOKUP_BATCH) throw new Error("a stored copy is missing");
        }
      }));
      const lookups = (LOOKUP_REQUESTS * LOOKUP_BATCH) / ((performance.now() - l0) / 1000);
      // Mailbox: put, then get back, under one group tag.
      const tag = toHex(crypto.getRandomValues(new Uint8Array(16)));
      const box = encodeB64(crypto.getRandomValues(new Uint8Array(BOX_BYTES)));
      const m0 = performance.now();
      for (let i = 0; i < BOXES; i += 500) {
        const items = Array.from({ length: 500 }, () => ({
          i: toHex(crypto.getRandomValues(new Uint8Array(16))),
          b: box,
        }));
        const res = await rpc.request("mbox.put", { tag, items }, 30_000) as { stored: number };
        if (res.stored !== 500) throw new Error(`the anchor stored ${res.stored} of 500 boxes`);
      }
      const put = BOXES / ((performance.now() - m0) / 1000);
      const g0 = performance.now();
      let got = 0;
      for (let after = 0; got < BOXES;) {
        const res = await rpc.request("mbox.get", { tag, after, limit: 1000 }, 30_000) as {
          items: Array<{ n: number }>;
        };
        if (res.items.length === 0) throw new Error(`only ${got} of ${BOXES} boxes came back`);
        got += res.items.length;
        after = res.items[res.items.length - 1]!.n;
      }
      const get = BOXES / ((performance.now() - g0) / 1000);
      const m = await memoryOf(anchor.child.pid);
      return { startMs, lookups, put, get, ...m };
    } finally {
      rpc.close();
      client.close();
    }
  } finally {
    await anchor.stop();
  }
}

export async function benchAnchor(): Promise<Row[]> {
  const root = await Deno.makeTempDir({ prefix: "roj-bench-anchor-" });
  const big = Number(Deno.env.get("ROJ_BENCH_ANCHOR_MEMBERS") ?? 10_000);
  const runs = Number(Deno.env.get("ROJ_BENCH_ANCHOR_RUNS") ?? 3);
  try {
    const rows: Row[] = [];
    const sets = [await prepare(`${root}/small`, 100), await prepare(`${root}/big`, big)];
    const figures = sets.map(() => [] as Figures[]);
    for (let r = 0; r < runs; r++) {
      for (const [i, p] of sets.entries()) figures[i]!.push(await measure(p, "127.0.0.1"));
    }
    for (const [i, p] of sets.entries()) {
      const f = figures[i]!;
      const m = (k: keyof Figures) => median(f.map((x) => x[k]));
      const label = `${p.members.toLocaleString("en-US")} members, ${
        p.copies.toLocaleString("en-US")
      } copies`;
      const target = (t: string) => (i === 1 ? `; target ${t}` : "; baseline");
      rows.push(
        {
          name: `${label}: store written`,
          value: p.writeS,
          unit: "s",
          note: "through the store API (contacts, SealedStore.put per member), not by handshakes",
        },
        {
          name: `${label}: startup`,
          value: m("startMs"),
          unit: "ms",
          note:
            "spawn to control socket answering; the first of the runs also files the members and copies by id (the store is written as before ids)",
        },
        {
          name: `${label}: lookups`,
          value: m("lookups"),
          unit: "records/s",
          note: `addr.get of ${LOOKUP_BATCH} tags, ${IN_FLIGHT} in flight, one SSH session${
            target(">= 50,000")
          }`,
        },
        {
          name: `${label}: mailbox put`,
          value: m("put"),
          unit: "boxes/s",
          note: `mbox.put of 500 x ${BOX_BYTES} B${target(">= 5,000")}`,
        },
        {
          name: `${label}: mailbox get`,
          value: m("get"),
          unit: "boxes/s",
          note: `mbox.get pages of 1,000${target(">= 5,000")}`,
        },
        {
          name: `${label}: RSS`,
          value: m("rss") / MB,
          unit: "MB",
          note: `after the above; peak ${(m("hwm") / MB).toFixed(0)} MB${target("<= 500 MB")}`,
        },
      );
    }
    return rows;
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}
