/**
 * The ssh-agent client and signer against the real OpenSSH ssh-agent and
 * ssh-add; the FIDO refusal against a hand-written agent (no security key
 * here to make an sk key with).
 */
import assert from "node:assert/strict";
import { isRojError } from "../errors.ts";
import { makeEd25519Key, startSshAgent } from "../../testing/ssh_agent.ts";
import { sshKeygenOk, withTempDir } from "../../testing/ssh_keygen.ts";
import { armor } from "./_armor.ts";
import { publicKeyOfKeyFile } from "./private_key.ts";
import { agentSign, checkKeyType, chooseAgentKey, listAgentKeys, SK_ED25519 } from "./agent.ts";
import { type AgentState, agreementSeed, createAgentSigner } from "./agent_signer.ts";
import { parsePublicKeyLine, publicKeyBlob } from "./keys.ts";
import { verifyEd25519 } from "./signer.ts";
import { WireWriter } from "../wire/mod.ts";

async function pubOf(path: string): Promise<Uint8Array> {
  return parsePublicKeyLine(await Deno.readTextFile(`${path}.pub`)).publicKey;
}

Deno.test("a real ssh-agent: lists the added key and signs with it, at once and asynchronously", async () => {
  await withTempDir(async (dir) => {
    await using agent = await startSshAgent(dir);
    assert.deepEqual(await listAgentKeys(agent.socket), []);
    await makeEd25519Key(`${dir}/k`, "alice@test");
    await agent.add(`${dir}/k`);
    const pub = await pubOf(`${dir}/k`);
    const keys = await listAgentKeys(agent.socket);
    assert.equal(keys.length, 1);
    assert.deepEqual(keys[0]!.publicKey, pub);
    assert.equal(keys[0]!.comment, "alice@test");
    assert.deepEqual(chooseAgentKey(keys).publicKey, pub);

    const data = new TextEncoder().encode("hello");
    const sig = await agentSign(agent.socket, pub, data);
    assert.ok(await verifyEd25519(pub, sig, data));
    using signer = await createAgentSigner({ socket: agent.socket, publicKey: pub });
    assert.deepEqual(await signer.sign(data), sig, "ed25519 is deterministic");
    assert.deepEqual(signer.signSync(data), sig);
    // The agreement seed is the same each time, and only from this key.
    assert.deepEqual(await agreementSeed(signer), await agreementSeed(signer));
    assert.equal((await agreementSeed(signer)).length, 32);
  });
});

Deno.test("agent gone: signing fails with agent_unavailable, once noticed; back: signing resumes", async () => {
  await withTempDir(async (dir) => {
    await makeEd25519Key(`${dir}/k`);
    const pub = await pubOf(`${dir}/k`);
    const agent = await startSshAgent(dir);
    await agent.add(`${dir}/k`);
    const changes: AgentState[] = [];
    using signer = await createAgentSigner({
      socket: agent.socket,
      publicKey: pub,
      onChange: (s) => changes.push(s),
    });
    const data = new Uint8Array([1, 2, 3]);
    await signer.sign(data);
    assert.equal(changes.length, 0);
    await agent.kill();

    await assert.rejects(signer.sign(data), (e) => isRojError(e, "agent_unavailable"));
    assert.throws(() => signer.signSync(data), (e) => isRojError(e, "agent_unavailable"));
    assert.equal(signer.state.available, false);
    assert.equal((await signer.check()).available, false);
    assert.equal(changes.length, 1, "said once, however often it fails");
    assert.equal(changes[0]!.available, false);

    // The agent comes back (same socket), first without the key, then with it.
    await using again = await startSshAgent(dir);
    assert.equal((await signer.check()).available, false);
    await again.add(`${dir}/k`);
    assert.equal((await signer.check()).available, true);
    assert.ok(await verifyEd25519(pub, signer.signSync(data), data));
    assert.deepEqual(changes.map((c) => c.available), [false, true]);
  });
});

Deno.test("an agent that does not hold the key: agent_unavailable", async () => {
  await withTempDir(async (dir) => {
    await makeEd25519Key(`${dir}/k`);
    const pub = await pubOf(`${dir}/k`);
    await using agent = await startSshAgent(dir);
    using signer = await createAgentSigner({ socket: agent.socket, publicKey: pub });
    await assert.rejects(signer.sign(new Uint8Array(1)), (e) => isRojError(e, "agent_unavailable"));
    assert.throws(
      () => signer.signSync(new Uint8Array(1)),
      (e) => isRojError(e, "agent_unavailable"),
    );
  });
});

Deno.test("several ed25519 keys: one must be chosen; a key the agent lacks: not_found", async () => {
  await withTempDir(async (dir) => {
    await using agent = await startSshAgent(dir);
    for (const k of ["a", "b"]) {
      await makeEd25519Key(`${dir}/${k}`);
      await agent.add(`${dir}/${k}`);
    }
    const keys = await listAgentKeys(agent.socket);
    assert.throws(() => chooseAgentKey(keys), (e) => isRojError(e, "bad_input"));
    assert.deepEqual(
      chooseAgentKey(keys, await pubOf(`${dir}/b`)).publicKey,
      await pubOf(`${dir}/b`),
    );
    assert.throws(
      () => chooseAgentKey(keys, new Uint8Array(32)),
      (e) => isRojError(e, "not_found"),
    );
  });
});

/** A one-shot fake agent whose key list holds `blobs`. */
function fakeAgent(path: string, blobs: Uint8Array[]): Deno.Listener {
  const listener = Deno.listen({ transport: "unix", path });
  (async () => {
    for await (const conn of listener) {
      const w = new WireWriter().u8(12).u32(blobs.length);
      for (const b of blobs) w.string(b).string("fido");
      await conn.read(new Uint8Array(64));
      await conn.write(new WireWriter().string(w.bytes()).bytes());
      conn.close();
    }
  })().catch(() => {});
  return listener;
}

Deno.test("a FIDO key (sk-ssh-ed25519) in the agent is refused with the reason", async () => {
  assert.throws(() => checkKeyType(SK_ED25519), (e) => isRojError(e, "key_unsupported"));
  assert.throws(() => checkKeyType("ssh-rsa"), (e) => isRojError(e, "bad_input"));
  checkKeyType("ssh-ed25519");
  await withTempDir(async (dir) => {
    // An sk-ssh-ed25519 public blob: string type, string key (32), string application.
    const sk = new WireWriter().string(SK_ED25519).string(new Uint8Array(32).fill(7))
      .string("ssh:").bytes();
    const listener = fakeAgent(`${dir}/fake.sock`, [sk]);
    try {
      const keys = await listAgentKeys(`${dir}/fake.sock`);
      assert.equal(keys[0]!.type, SK_ED25519);
      assert.equal(keys[0]!.publicKey, undefined);
      assert.throws(
        () => chooseAgentKey(keys),
        (e) => isRojError(e, "key_unsupported") && /FIDO/.test(e.message),
      );
      // A plain key beside it is the one taken.
      const plain = publicKeyBlob(new Uint8Array(32).fill(9));
      assert.deepEqual(
        chooseAgentKey([...keys, {
          type: "ssh-ed25519",
          blob: plain,
          comment: "",
          publicKey: new Uint8Array(32).fill(9),
        }]).blob,
        plain,
      );
    } finally {
      listener.close();
    }
  });
});

Deno.test("a FIDO key file given with --key is refused with the reason, a plain one read without its passphrase", async () => {
  // An openssh-key-v1 file as ssh-keygen -t ed25519-sk writes it, up to its private section.
  const skBlob = new WireWriter().string(SK_ED25519).string(new Uint8Array(32).fill(7))
    .string("ssh:").bytes();
  const file = new WireWriter().raw(new TextEncoder().encode("openssh-key-v1\0"))
    .string("none").string("none").string("").u32(1).string(skBlob).string(new Uint8Array(8))
    .bytes();
  assert.throws(
    () => publicKeyOfKeyFile(armor("OPENSSH PRIVATE KEY", file)),
    (e) => isRojError(e, "key_unsupported") && /FIDO/.test(e.message),
  );
  assert.throws(() => publicKeyOfKeyFile("not a key"), (e) => isRojError(e, "key_malformed"));
  await withTempDir(async (dir) => {
    await sshKeygenOk(["-q", "-t", "ed25519", "-N", "secret", "-f", `${dir}/k`]);
    assert.deepEqual(
      publicKeyOfKeyFile(await Deno.readTextFile(`${dir}/k`)),
      await pubOf(`${dir}/k`),
    );
  });
});
