/**
 * A key in ssh-agent, end to end with the real OpenSSH ssh-agent and ssh-add:
 * `roj init --agent` writes no private key; the node signs its entries, its
 * SSH host key and its SSH logins through the agent while chatting with a
 * contact over real SSH; its entries verify with `ssh-keygen -Y verify`; with
 * the agent killed it says so once, refuses writes with agent_unavailable and
 * keeps reading; with the agent back it signs again.
 */
import assert from "node:assert/strict";
import { base64 } from "@scure/base";
import { initProfile } from "../node/home/mod.ts";
import { decodePrivateKey } from "../node/identity/mod.ts";
import { freePort, rojProcess } from "../testing/cli_run.ts";
import { addByInvite, callNode, spawnNode } from "../testing/processes.ts";
import { makeEd25519Key, startSshAgent } from "../testing/ssh_agent.ts";
import { sshKeygen } from "../testing/ssh_keygen.ts";
import { tempDir } from "../testing/temp.ts";

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await filesUnder(path));
    else if (e.isFile) out.push(path);
  }
  return out;
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test("a key in ssh-agent: init writes no private key; chat over SSH; agent gone: writes refused, reads go on; back: signing again", async () => {
  await using d = await tempDir();
  await Deno.mkdir(`${d.path}/keys`);
  const keyFile = `${d.path}/keys/id_ed25519`;
  await makeEd25519Key(keyFile, "alice@laptop");
  const seed = (await decodePrivateKey(await Deno.readTextFile(keyFile))).seed;
  let agent = await startSshAgent(d.path);
  try {
    await agent.add(keyFile);
    const env = { SSH_AUTH_SOCK: agent.socket };
    const aDir = `${d.path}/alice`, bDir = `${d.path}/bob`;

    // Without an agent, --agent is refused; with it, the agent's only key is the identity.
    const noAgent = await rojProcess(["init", "--agent", "--data", aDir], {
      env: { SSH_AUTH_SOCK: "" },
    });
    assert.equal(noAgent.code, 5, noAgent.stderr);
    assert.match(noAgent.stderr, /^roj: agent_unavailable: /);
    const init = await rojProcess(
      ["init", "--agent", "--data", aDir, "--name", "alice", "--json"],
      { env },
    );
    assert.equal(init.code, 0, init.stderr);
    const made = JSON.parse(init.stdout);
    assert.equal(made.keyInAgent, true);
    assert.equal(made.name, "alice");
    const keyLine = (await Deno.readTextFile(`${keyFile}.pub`)).trim();
    assert.equal(
      (await Deno.readTextFile(`${aDir}/id_ed25519.pub`)).split(" ").slice(0, 2).join(" "),
      keyLine.split(" ").slice(0, 2).join(" "),
    );
    await assert.rejects(Deno.stat(`${aDir}/id_ed25519`), Deno.errors.NotFound);
    (await initProfile(bDir, { name: "bob" })).store.close();

    const aAt = `127.0.0.2:${freePort("127.0.0.2")}`, bAt = `127.0.0.3:${freePort("127.0.0.3")}`;
    let alice = await spawnNode(aDir, aAt, "alice", { env });
    const bob = await spawnNode(bDir, bAt, "bob");
    try {
      // Bob dials alice: her SSH host key signs through the agent.
      const ca = await alice.control();
      const invite = await ca.call("invite", {});
      await ca.close();
      const cb = await bob.control();
      await cb.call("add", { invite: invite.text });
      await bob.waitForEvent("session", (e) => e.state === "up" && e.peer === "alice");
      // Alice dials bob after a restart: her SSH login signs through the agent.
      await alice.stop();
      alice = await spawnNode(aDir, aAt, "alice", { env });
      await alice.waitForEvent(
        "session",
        (e) => e.state === "up" && e.peer === "bob" && e.direction === "out",
        { what: "alice dials bob", timeoutMs: 20_000 },
      );

      // Entries signed through the agent, both ways.
      let c = await alice.control();
      await c.call("send", { chat: "bob", text: "hello from the agent" });
      await c.close();
      await bob.waitForEvent("message", (e) => e.message.body === "hello from the agent");
      await cb.call("send", { chat: "alice", text: "hi alice" });
      await alice.waitForEvent("message", (e) => e.message.body === "hi alice");
      // A group: its keys are sealed to the X25519 key alice published in her hello.
      c = await alice.control();
      await c.call("group.create", { name: "climbers" });
      await c.call("group.add", { group: "climbers", members: ["bob"] });
      await c.call("send", { chat: "climbers", text: "rope at 6?" });
      await c.close();
      await bob.waitForEvent("message", (e) => e.message.body === "rope at 6?");
      await cb.call("send", { chat: "climbers", text: "yes" });
      // Bob's group: bob seals its key to the X25519 key alice's hello published.
      await cb.call("group.create", { name: "hikers" });
      await cb.call("group.add", { group: "hikers", members: ["alice"] });
      await cb.call("send", { chat: "hikers", text: "trail at 8?" });
      await alice.waitForEvent("message", (e) => e.message.body === "trail at 8?");
      await alice.waitForEvent(
        "message",
        (e) => e.message.chat === "climbers" && e.message.body === "yes",
      );

      // ssh-keygen -Y verify takes alice's entries, with the agent's public key.
      const exported = await rojProcess(["export", "bob", "--data", aDir], { env });
      assert.equal(exported.code, 0, exported.stderr);
      await Deno.writeTextFile(`${d.path}/allowed`, `alice ${keyLine}\n`);
      const mine = exported.stdout.trim().split("\n").map((l) => JSON.parse(l))
        .filter((e) => e.body === "hello from the agent");
      assert.equal(mine.length, 1, exported.stdout);
      await Deno.writeTextFile(`${d.path}/e.sig`, mine[0].sig);
      const verified = await sshKeygen(
        [
          "-Y",
          "verify",
          "-f",
          `${d.path}/allowed`,
          "-I",
          "alice",
          "-n",
          "roj-entry",
          "-s",
          `${d.path}/e.sig`,
        ],
        base64.decode(mine[0].signed),
      );
      assert.equal(verified.code, 0, verified.stderr + verified.stdout);

      // The agent goes: told once, writes refused, reads and receiving go on.
      const before = alice.events().length;
      await agent.kill();
      const send = await rojProcess(["send", "bob", "while gone", "--data", aDir], { env });
      assert.equal(send.code, 5, send.stderr);
      assert.match(send.stderr, /^roj: agent_unavailable: /);
      await alice.waitForEvent("agent", (e) => !e.available, { after: before });
      const read = await rojProcess(["read", "bob", "--data", aDir, "--json"], { env });
      assert.equal(read.code, 0, read.stderr);
      assert.deepEqual(JSON.parse(read.stdout).map((m: { body: string }) => m.body), [
        "hello from the agent",
        "hi alice",
      ]);
      const status = JSON.parse(
        (await rojProcess(["status", "--data", aDir, "--json"], { env })).stdout,
      );
      assert.equal(status.agent.available, false);
      assert.equal(status.agent.socket, agent.socket);
      await cb.call("send", { chat: "alice", text: "still there?" });
      await alice.waitForEvent("message", (e) => e.message.body === "still there?");
      const again = await rojProcess(["send", "bob", "while gone", "--data", aDir], { env });
      assert.equal(again.code, 5, again.stderr);
      assert.equal(
        alice.events().slice(before).filter((e) => e.type === "agent").length,
        1,
        "the agent's going is told once",
      );

      // The agent comes back with the key: signing resumes.
      agent = await startSshAgent(d.path);
      await agent.add(keyFile);
      await alice.waitForEvent("agent", (e) => e.available, { after: before });
      c = await alice.control();
      await c.call("send", { chat: "bob", text: "back again" });
      await c.close();
      await bob.waitForEvent("message", (e) => e.message.body === "back again");
      const back = JSON.parse(
        (await rojProcess(["status", "--data", aDir, "--json"], { env })).stdout,
      );
      assert.equal(back.agent.available, true);
      await cb.close();
    } catch (err) {
      throw new Error(
        `${(err as Error).message}\nalice:\n${alice.output()}\nbob:\n${bob.output()}`,
      );
    } finally {
      await alice.stop();
      await bob.stop();
    }

    // A backup of the folder holds no private key either, and the restored folder uses the agent.
    const pw = { ...env, ROJ_PASSPHRASE: "backup pass" };
    const backup = await rojProcess(["backup", "--data", aDir, "--out", `${d.path}/a.rojbak`], {
      env: pw,
    });
    assert.equal(backup.code, 0, backup.stderr);
    const restored = await rojProcess(["restore", `${d.path}/a.rojbak`, "--data", `${d.path}/a2`], {
      env: pw,
    });
    assert.equal(restored.code, 0, restored.stderr);
    await assert.rejects(Deno.stat(`${d.path}/a2/id_ed25519`), Deno.errors.NotFound);
    const id2 = await rojProcess(["id", "--json", "--data", `${d.path}/a2`], { env });
    assert.equal(id2.code, 0, id2.stderr);
    assert.equal(JSON.parse(id2.stdout).fingerprint, made.fingerprint);

    // Without the agent the folder still opens, for reading (`roj run` too: the next test).
    await agent.kill();
    const gone = await rojProcess(["id", "--json", "--data", aDir], { env });
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(JSON.parse(gone.stdout).fingerprint, made.fingerprint);

    // Nowhere in alice's data folder, nor in the restored one, is her private key.
    for (const file of [...await filesUnder(aDir), ...await filesUnder(`${d.path}/a2`)]) {
      const bytes = await Deno.readFile(file);
      assert.ok(!contains(bytes, seed), `${file} holds the private key`);
      assert.ok(
        !new TextDecoder().decode(bytes).includes("PRIVATE KEY"),
        `${file} holds a private key`,
      );
    }
  } finally {
    await agent.kill();
  }
});

Deno.test("an agent node started while its agent is absent: it says so, reads, refuses writes; once the agent is back it signs and meets its contacts", async () => {
  await using d = await tempDir();
  await Deno.mkdir(`${d.path}/keys`);
  const keyFile = `${d.path}/keys/id_ed25519`;
  await makeEd25519Key(keyFile, "alice@laptop");
  let agent = await startSshAgent(d.path);
  try {
    await agent.add(keyFile);
    const env = { SSH_AUTH_SOCK: agent.socket };
    const aDir = `${d.path}/alice`, bDir = `${d.path}/bob`;
    const init = await rojProcess(["init", "--agent", "--data", aDir, "--name", "alice"], { env });
    assert.equal(init.code, 0, init.stderr);
    (await initProfile(bDir, { name: "bob" })).store.close();
    const aAt = `127.0.0.2:${freePort("127.0.0.2")}`, bAt = `127.0.0.3:${freePort("127.0.0.3")}`;
    let alice = await spawnNode(aDir, aAt, "alice", { env });
    const bob = await spawnNode(bDir, bAt, "bob");
    try {
      await addByInvite(alice, bob);
      await bob.waitForEvent("session", (e) => e.state === "up" && e.peer === "alice");
      await callNode(bob, "send", { chat: "alice", text: "before" });
      await alice.waitForEvent("message", (e) => e.message.body === "before");
      await alice.stop();
      await agent.kill();

      // No agent at start: it starts anyway, and says so once.
      alice = await spawnNode(aDir, aAt, "alice", { env });
      await alice.waitForEvent("agent", (e) => !e.available);
      const status = JSON.parse(
        (await rojProcess(["status", "--data", aDir, "--json"], { env })).stdout,
      );
      assert.equal(status.agent.available, false);
      assert.deepEqual(
        status.listen,
        [],
        "nothing is accepted: an SSH key exchange needs the agent",
      );
      const read = await rojProcess(["read", "bob", "--data", aDir, "--json"], { env });
      assert.equal(read.code, 0, read.stderr);
      assert.deepEqual(JSON.parse(read.stdout).map((m: { body: string }) => m.body), ["before"]);
      const send = await rojProcess(["send", "bob", "while gone", "--data", aDir], { env });
      assert.equal(send.code, 5, send.stderr);
      assert.match(send.stderr, /^roj: agent_unavailable: /);

      // The agent comes back with the key: the node signs, listens and dials bob.
      agent = await startSshAgent(d.path);
      await agent.add(keyFile);
      await alice.waitForEvent("agent", (e) => e.available, { timeoutMs: 20_000 });
      await alice.waitForEvent("session", (e) => e.state === "up" && e.peer === "bob", {
        timeoutMs: 20_000,
      });
      await callNode(alice, "send", { chat: "bob", text: "back" });
      await bob.waitForEvent("message", (e) => e.message.body === "back");
      assert.equal(alice.events().filter((e) => e.type === "agent" && !e.available).length, 1);
    } catch (err) {
      throw new Error(
        `${(err as Error).message}\nalice:\n${alice.output()}\nbob:\n${bob.output()}`,
      );
    } finally {
      await alice.stop();
      await bob.stop();
    }
  } finally {
    await agent.kill();
  }
});
