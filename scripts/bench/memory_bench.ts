/**
 * Memory of `roj run` processes (issue 16), read from /proc/<pid>/status
 * (through cat: Deno reads /proc only with -A), each the median of RUNS
 * processes, with two baselines started the same way in the same run:
 *
 * - a bare `deno run` process that only imported ssh2 (what any node needs
 *   before a line of Roj runs), and an empty one;
 * - an idle node: a fresh identity, the web admin on, no contacts (target
 *   <= 70 MB);
 * - a node with 1,000 contacts and 100 chats of 40 messages each (target
 *   <= 150 MB). Its data folder is written directly through the node's own
 *   API (RojNode.open, ContactBook.add, ChatLog.appendMany with each side's
 *   real key), not by 1,000 handshakes: the store holds what handshakes
 *   would leave, and the process that is measured opens it as any start
 *   does. The contacts are offline (their address refuses), so the node
 *   dials each once and then waits, as it would at home.
 *
 * Each node is measured a settling time after its search index is rebuilt
 * (the last thing a start does); RSS is the process's resident memory, and
 * the note splits it into anonymous memory (heaps) and file pages (the deno
 * binary's code, shared with every other deno process).
 */
import { RojNode } from "../../node/mod.ts";
import { initProfile } from "../../node/home/mod.ts";
import { createSigner, generateKeyPair } from "../../node/identity/mod.ts";
import { directChatId } from "../../node/log/mod.ts";
import { NODE_RUN_FLAGS, spawnNode } from "../../testing/processes.ts";
import { freePort } from "../../testing/cli_run.ts";
import { median, type Row } from "./_measure.ts";

const RUNS = Number(Deno.env.get("ROJ_BENCH_MEMORY_RUNS") ?? 3);
const CONTACTS = 1000;
const CHATS = 100;
const MESSAGES = 40;
/** After the index is rebuilt: what the start left behind settles (dials refused, timers). */
const SETTLE_MS = 5000;
const MB = 1024 * 1024;

interface Memory {
  readonly rss: number;
  readonly anon: number;
  readonly file: number;
}

async function memoryOf(pid: number): Promise<Memory> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stdout: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") };
}

function row(name: string, ms: Memory[], note = ""): Row {
  const m = (f: keyof Memory) => median(ms.map((x) => x[f])) / MB;
  return {
    name,
    value: m("rss"),
    unit: "MB",
    note: `anon ${m("anon").toFixed(1)}, file ${m("file").toFixed(1)}${note ? `; ${note}` : ""}`,
  };
}

/** A bare deno process running `code` under the node's flags, measured after it settled. */
async function bare(dir: string, code: string): Promise<Memory> {
  const path = `${dir}/bare-${crypto.randomUUID()}.ts`;
  await Deno.writeTextFile(path, `${code}\nsetInterval(() => {}, 60_000);\n`);
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--config", config, ...NODE_RUN_FLAGS, "--allow-read", path],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const errors = new Response(child.stderr).text();
  let exited = false;
  child.status.then(() => exited = true);
  await new Promise((r) => setTimeout(r, 3000));
  if (exited) throw new Error(`the bare process exited: ${await errors}`);
  const m = await memoryOf(child.pid);
  child.kill("SIGKILL");
  await child.status;
  return m;
}

/** Starts `roj run` in `dir` with the web admin on, waits until it settled, measures, stops it. */
async function nodeMemory(dir: string, name: string): Promise<Memory> {
  const host = "127.0.0.1";
  await Deno.mkdir(dir, { recursive: true });
  const p = await spawnNode(dir, `${host}:${freePort(host)}`, name, {
    args: ["--web", `${host}:0`, "--no-upnp"],
  });
  try {
    await p.waitForEvent("search-index", (e) => e.state === "ready", {
      timeoutMs: 120_000,
      what: "the search index rebuilt",
    });
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return await memoryOf(p.child.pid);
  } finally {
    await p.stop();
  }
}

/** A data folder holding `contacts` contacts and `chats` 1:1 chats of `messages` entries each. */
export async function populated(dir: string): Promise<number> {
  const t0 = performance.now();
  (await initProfile(dir, { name: "busy" })).store.close();
  const node = await RojNode.open({ dataDir: dir });
  try {
    // A refusing address: each contact is dialled, refused and left to its backoff.
    const nowhere = `127.0.0.1:${freePort("127.0.0.1")}`;
    for (let i = 0; i < CONTACTS; i++) {
      const kp = await generateKeyPair(`c${i}`);
      await node.contacts.add(kp.publicKey, `contact-${i}`, [nowhere], Date.now());
      if (i >= CHATS) continue;
      const chat = directChatId(node.publicKey, kp.publicKey);
      const theirs = await createSigner(kp);
      for (let m = 0; m < MESSAGES; m += 2) {
        await node.log.appendMany(chat, node.signer, [{ type: "msg", body: `hello ${i} ${m}` }]);
        await node.log.appendMany(chat, theirs, [{ type: "msg", body: `hi back ${i} ${m}` }]);
      }
    }
  } finally {
    await node.close();
  }
  return (performance.now() - t0) / 1000;
}

export async function benchMemory(): Promise<Row[]> {
  const dir = await Deno.makeTempDir({ prefix: "roj-bench-memory-" });
  try {
    const empty: Memory[] = [];
    const ssh2: Memory[] = [];
    const idle: Memory[] = [];
    const busy: Memory[] = [];
    const busyDir = `${dir}/busy`;
    const prepS = await populated(busyDir);
    for (let r = 0; r < RUNS; r++) {
      empty.push(await bare(dir, ""));
      ssh2.push(await bare(dir, `import "ssh2";`));
      idle.push(await nodeMemory(`${dir}/idle-${r}`, `idle${r}`));
      busy.push(await nodeMemory(busyDir, "busy"));
    }
    const flags = NODE_RUN_FLAGS.join(" ");
    return [
      row("baseline: bare deno run, nothing imported", empty, flags),
      row("baseline: bare deno run, ssh2 imported", ssh2),
      row("idle node (fresh identity, web admin on)", idle, "target <= 70 MB"),
      row(
        `node with ${CONTACTS.toLocaleString("en-US")} contacts and ${CHATS} chats`,
        busy,
        `${CHATS} x ${MESSAGES} messages; written through the store API in ${
          prepS.toFixed(0)
        } s, not by handshakes; contacts offline; target <= 150 MB`,
      ),
    ];
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
