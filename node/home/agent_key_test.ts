/**
 * Which key `roj init` takes when an ssh-agent runs (the real ssh-agent and
 * ssh-add), and what opening such a folder needs.
 */
import assert from "node:assert/strict";
import { isRojError } from "../errors.ts";
import { parsePublicKeyLine } from "../identity/mod.ts";
import { makeEd25519Key, startSshAgent } from "../../testing/ssh_agent.ts";
import { withTempDir } from "../../testing/ssh_keygen.ts";
import { initProfile, openProfile } from "./profile.ts";

async function pubOf(path: string): Promise<Uint8Array> {
  return parsePublicKeyLine(await Deno.readTextFile(`${path}.pub`)).publicKey;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("init with an agent: --agent takes its only key, --key picks one, a --key it lacks is adopted as a file", async () => {
  await withTempDir(async (dir) => {
    await using agent = await startSshAgent(dir);
    await makeEd25519Key(`${dir}/a`, "first");
    await agent.add(`${dir}/a`);
    const socket = agent.socket;

    // --agent, one key: that one, nothing private written.
    const one = await initProfile(`${dir}/one`, { agent: { socket, required: true } });
    one.store.close();
    assert.equal(one.keyInAgent, true);
    assert.deepEqual(one.keyPair.publicKey, await pubOf(`${dir}/a`));
    assert.equal(one.name, "first");
    assert.equal(await exists(`${dir}/one/id_ed25519`), false);

    // Several keys: --agent alone is refused; --key names one (its .pub will do).
    await makeEd25519Key(`${dir}/b`, "second");
    await agent.add(`${dir}/b`);
    await assert.rejects(
      initProfile(`${dir}/two`, { agent: { socket, required: true } }),
      (e) => isRojError(e, "bad_input"),
    );
    const picked = await initProfile(`${dir}/two`, {
      agent: { socket, required: true },
      adoptKey: `${dir}/b.pub`,
    });
    picked.store.close();
    assert.deepEqual(picked.keyPair.publicKey, await pubOf(`${dir}/b`));

    // --key without --agent, SSH_AUTH_SOCK set: a key the agent holds is used from it…
    const held = await initProfile(`${dir}/held`, {
      agent: { socket, required: false },
      adoptKey: `${dir}/a`,
    });
    held.store.close();
    assert.equal(held.keyInAgent, true);
    // …and one it does not hold is adopted as a file, as without an agent.
    await makeEd25519Key(`${dir}/c`);
    const file = await initProfile(`${dir}/file`, {
      agent: { socket, required: false },
      adoptKey: `${dir}/c`,
    });
    file.store.close();
    assert.equal(file.keyInAgent, false);
    // --agent with a key it does not hold: not_found.
    await assert.rejects(
      initProfile(`${dir}/lacks`, { agent: { socket, required: true }, adoptKey: `${dir}/c` }),
      (e) => isRojError(e, "not_found"),
    );
    // Without --agent or --key the agent is not used.
    const plain = await initProfile(`${dir}/plain`, { agent: { socket, required: false } });
    plain.store.close();
    assert.equal(plain.keyInAgent, false);

    // Opening: the agent signs; the agreement seed is the same at every open.
    const a = await openProfile(`${dir}/one`, undefined, { socket });
    const b = await openProfile(`${dir}/one`, undefined, { socket });
    try {
      assert.ok(a.agent);
      assert.deepEqual(a.keyPair.seed, b.keyPair.seed);
      assert.deepEqual(a.keyPair.publicKey, one.keyPair.publicKey);
    } finally {
      for (const p of [a, b]) {
        p.agent?.close();
        p.store.close();
      }
    }
    // Without SSH_AUTH_SOCK, or with the agent gone: agent_unavailable, with the folder untouched.
    await assert.rejects(openProfile(`${dir}/one`), (e) => isRojError(e, "agent_unavailable"));
    await agent.kill();
    await assert.rejects(
      openProfile(`${dir}/one`, undefined, { socket }),
      (e) => isRojError(e, "agent_unavailable"),
    );
  });
});
