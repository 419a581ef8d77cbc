/**
 * Device-to-device sync (issue 13's bench): alice's phone catching up on the
 * entries her laptop wrote while the phone was off, over their sibling
 * session (device_sync/sibling_sync.ts), against bob's 1:1 catch-up of as
 * many entries from alice (chat_bench.ts), measured in the same run. Target:
 * the phone at >= 0.8x bob's rate.
 *
 * `deno task bench devsync` runs this section alone;
 * ROJ_BENCH_DEVSYNC_N (default 20,000) and ROJ_BENCH_DEVSYNC_RUNS (default 3)
 * scale it down for a quick look.
 */
import { befriend, startTestNode } from "../../testing/nodes.ts";
import { joinPerson } from "../../node/linking/mod.ts";
import { median, type Row, withTimeout } from "./_measure.ts";
import { catchUp } from "./chat_bench.ts";

const N = Number(Deno.env.get("ROJ_BENCH_DEVSYNC_N") ?? 20_000);
const RUNS = Number(Deno.env.get("ROJ_BENCH_DEVSYNC_RUNS") ?? 3);
const APPEND_BATCH = 1000;

const ms = (t0: number) => performance.now() - t0;

/**
 * Seconds from the phone's start until it holds all `n` entries the laptop
 * wrote in the chat with bob while the phone was off. The phone was linked and
 * ran once before (it knows bob as a contact, and where the laptop is), as bob
 * had before his catch-up; bob is away, so the laptop serves the phone alone.
 */
async function deviceCatchUp(n: number): Promise<number> {
  const tmp = await Deno.makeTempDir({ prefix: "roj-devsync-bench-" });
  const phoneDir = `${tmp}/phone`;
  const host = { laptop: "127.0.0.2", phone: "127.0.0.4", bob: "127.0.0.3" };
  try {
    await using laptop = await startTestNode("alice", { host: host.laptop });
    {
      await using bob = await startTestNode("bob", { host: host.bob });
      await befriend(laptop, bob);
    }
    await joinPerson(phoneDir, (await laptop.node.call("device.link", {})).text, {
      name: "phone",
    });
    let port: number;
    {
      await using first = await startTestNode("phone", { host: host.phone, dir: phoneDir });
      port = first.node.address!.port;
      await withTimeout(
        (async () => {
          while (!(await first.node.call("contacts", {})).some((c) => c.name === "bob")) {
            await new Promise((r) => setTimeout(r, 20));
          }
        })(),
        15_000,
        "the phone learning bob",
      );
    }
    const chat = laptop.node.chat("bob").id;
    for (let i = 0; i < n; i += APPEND_BATCH) {
      const items = Array.from({ length: Math.min(APPEND_BATCH, n - i) }, (_, j) => ({
        type: "msg",
        body: `catch-up message ${i + j}, about as long as a short chat message`,
      }));
      await laptop.node.log.appendMany(chat, laptop.node.signer, items);
    }

    const t0 = performance.now();
    await using phone = await startTestNode("phone", { host: host.phone, port, dir: phoneDir });
    // Every message event of the phone is one of the laptop's entries in the chat with bob.
    let count = phone.events.filter((e) => e.type === "message").length;
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    const stop = phone.node.subscribe((e) => {
      if (e.type === "message" && ++count >= n) done();
    });
    try {
      if (count < n) await withTimeout(all, 180_000, `device sync of ${n} entries`);
      const seconds = ms(t0) / 1000;
      const held = (await phone.node.read("bob")).length;
      if (held !== n) throw new Error(`the phone holds ${held} of the laptop's ${n} entries`);
      return seconds;
    } finally {
      stop();
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

export async function benchDevsync(): Promise<Row[]> {
  const oneToOne: number[] = [];
  const devices: number[] = [];
  // Interleaved, so that a slower stretch of the machine weighs on both alike.
  for (let r = 0; r < RUNS; r++) {
    oneToOne.push(await catchUp(N));
    devices.push(await deviceCatchUp(N));
  }
  const baseRate = N / median(oneToOne);
  const devRate = N / median(devices);
  const entries = N.toLocaleString("en-US");
  return [
    {
      name: `baseline: 1:1 catch-up, bob's start until he holds ${entries} entries`,
      value: baseRate,
      unit: "entries/s",
      note: `${median(oneToOne).toFixed(2)} s, median of ${RUNS}`,
    },
    {
      name: `device sync: the phone's start until it holds the laptop's ${entries} entries`,
      value: devRate,
      unit: "entries/s",
      note: `${median(devices).toFixed(2)} s, median of ${RUNS}; ${
        (devRate / baseRate).toFixed(2)
      }x the 1:1 catch-up (target >= 0.8x)`,
    },
  ];
}
