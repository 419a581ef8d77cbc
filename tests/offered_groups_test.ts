/**
 * Groups a contact offers that do not name us (issue 17, item 9): the victim
 * keeps their entries in scratch logs only up to a byte cap per session, and
 * the memory that costs stays close to that cap. Mallory, over a raw session
 * under her own key, pushes 4 groups of 24 MiB each (96 MiB), none adding
 * alice.
 */
import assert from "node:assert/strict";
import { base32nopad } from "@scure/base";
import { createEntry, type Entry } from "../node/log/mod.ts";
import { MAX_SESSION_CANDIDATE_BYTES } from "../node/groups/mod.ts";
import { encodeB64, RpcSession } from "../node/protocol/mod.ts";
import { dialSsh } from "../node/transport/mod.ts";
import { createSigner, generateKeyPair } from "../node/identity/mod.ts";
import { makeDataDir, seedContacts } from "../testing/netlab.ts";
import { spawnNode } from "../testing/processes.ts";
import { freePort } from "../testing/cli_run.ts";

const MiB = 2 ** 20;
const GROUPS = 4;
const PER_GROUP = 24 * MiB;
/** Bodies near the entry limit (64 KiB), in pushes that fit a frame. */
const BODY = "x".repeat(60 * 1024);
const PER_PUSH = 12;

/** A process's resident memory now, and its peak so far, in bytes (Linux). */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  // Deno reads /proc only with --allow-all; `cat` may read it under the test task's permissions.
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stdout: "piped" })
    .output();
  const status = new TextDecoder().decode(out.stdout);
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)![1]) * 1024;
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

Deno.test("groups offered by a contact that never name us cost memory near the per-session cap", async () => {
  const alice = await makeDataDir("alice");
  const mallory = await generateKeyPair("mallory");
  const signer = await createSigner(mallory);
  await seedContacts(alice.dir, [{ publicKey: mallory.publicKey, name: "mallory" }]);
  const port = freePort("127.0.0.91");
  const victim = await spawnNode(alice.dir, `127.0.0.91:${port}`, "alice");
  const client = await dialSsh({
    keyPair: mallory,
    to: { host: "127.0.0.91", port },
    expectedKey: alice.publicKey,
    expectedName: "alice",
  });
  const rpc = new RpcSession(await client.openRoj(), {
    hello: { features: ["sync1"], name: "mallory" },
  });
  await rpc.ready;
  try {
    const before = (await memoryOf(victim.child.pid)).rss;
    let refusedGroups = 0;
    for (let g = 0; g < GROUPS; g++) {
      const chat = `g-${
        base32nopad.encode(crypto.getRandomValues(new Uint8Array(16))).toLowerCase()
      }`;
      let prev: Entry | null = null;
      let sent = 0;
      for (let seq = 1; sent < PER_GROUP; seq += PER_PUSH) {
        const batch: Entry[] = [];
        for (let i = 0; i < PER_PUSH; i++) {
          prev = await createEntry(signer, {
            chat,
            author: mallory.publicKey,
            seq: seq + i,
            prev: prev?.hash ?? null,
            lamport: seq + i,
            ts: Date.now(),
            type: "msg",
            body: BODY,
          });
          batch.push(prev);
          sent += prev.signed.length + prev.sig.length;
        }
        try {
          await rpc.request("sync.push", {
            chat,
            entries: batch.map((e) => ({ s: encodeB64(e.signed), g: encodeB64(e.sig) })),
          });
        } catch {
          refusedGroups++; // dropped: asked again, it is not_found
          break;
        }
      }
    }
    const grew = ((await memoryOf(victim.child.pid)).peak - before) / MiB;
    console.log(`alice's peak RSS grew by ${grew.toFixed(0)} MiB; ${refusedGroups} groups refused`);
    // Past the session's cap the later groups are dropped...
    assert.ok(refusedGroups >= GROUPS - 2, `${refusedGroups} groups refused`);
    // ...and what the rest cost stays near the cap. The peak includes the garbage of decoding
    // the pushes (base64 JSON frames, as every sync push); before the cap per session and the
    // membership folded from its own entries, 96 MiB offered cost this node ~420 MiB.
    const cap = MAX_SESSION_CANDIDATE_BYTES / MiB;
    assert.ok(grew < 6 * cap + 32, `RSS grew by ${grew.toFixed(0)} MiB (cap ${cap} MiB)`);
    const chats = await (await victim.control()).call("chats", {});
    assert.ok(chats.every((c) => c.kind !== "group"), "no offered group was adopted");
  } finally {
    rpc.close();
    client.close();
    await victim.stop();
    await Deno.remove(alice.dir, { recursive: true }).catch(() => {});
  }
});
