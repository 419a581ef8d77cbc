/**
 * A stranger who knows public keys (people's ~/.ssh keys are often public)
 * must not learn which of them are a node's contacts by asking SSH "would
 * this key do?", and cannot ask at speed (issue 17, item 2).
 *
 * The stranger is an ssh2 client whose agent lists 1,000 keys, two of them
 * real contacts of the victim: ssh2 asks about each, and calls the agent to
 * sign only for a key the server said would do. The agent never signs, so
 * every answer is a query's answer.
 */
import assert from "node:assert/strict";
import ssh2 from "ssh2";
import { publicKeyLine } from "../node/identity/mod.ts";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { seededRandom, shuffle, testSeed } from "../testing/temp.ts";

const KEYS = 1000;

/** An agent holding public keys only: records which ones the server would take. */
class ProbingAgent extends ssh2.BaseAgent {
  readonly #lines: string[];
  readonly accepted = new Set<string>();
  constructor(lines: string[]) {
    super();
    this.#lines = lines;
  }
  getIdentities(cb: (err: Error | null, keys?: string[]) => void): void {
    cb(null, this.#lines);
  }
  sign(
    key: { getPublicSSH(): Uint8Array },
    _data: Uint8Array,
    _options: unknown,
    cb: (err: Error) => void,
  ): void {
    this.accepted.add(btoa(String.fromCharCode(...key.getPublicSSH())));
    cb(new Error("this agent does not sign"));
  }
}

/** One SSH connection from 127.0.0.52 that asks about keys until the server stops it. */
function probeOnce(port: number, agent: ProbingAgent): Promise<void> {
  return new Promise((resolve) => {
    const c = new ssh2.Client();
    c.on("error", () => {});
    c.on("close", () => resolve());
    c.on("ready", () => c.end());
    c.connect({
      host: "127.0.0.51",
      port,
      localAddress: "127.0.0.52",
      username: "roj",
      agent,
      readyTimeout: 10_000,
      hostVerifier: () => true,
    });
  });
}

Deno.test("SSH key queries: contacts and strangers get the same answer, and a prober is throttled", async () => {
  const rand = seededRandom(testSeed("auth probe"));
  // alice's clock stands still, so her throttle gives back nothing while the test runs:
  // exactly its burst of answers, however slow this machine is.
  const frozen = Date.now();
  await using alice = await startTestNode("alice", {
    host: "127.0.0.51",
    quic: false,
    now: () => frozen,
  });
  await using bob = await startTestNode("bob", { host: "127.0.0.53", quic: false });
  await using carol = await startTestNode("carol", { host: "127.0.0.54", quic: false });
  await befriend(alice, bob);
  await befriend(alice, carol);
  // 1,000 keys (random strangers' public keys) with the two contacts among the first 30.
  const lines = Array.from(
    { length: KEYS },
    () => publicKeyLine(crypto.getRandomValues(new Uint8Array(32))),
  );
  const early = shuffle([...Array(30).keys()], rand);
  lines[early[0]!] = publicKeyLine(bob.node.publicKey);
  lines[early[1]!] = publicKeyLine(carol.node.publicKey);
  const blob = (line: string) => line.split(" ")[1]!;

  // Each connection offers the next keys (a server cuts a connection after a dozen attempts).
  const answered = new Set<string>();
  const port = alice.node.address!.port;
  for (let offset = 0; offset < KEYS;) {
    const agent = new ProbingAgent(lines.slice(offset, offset + 8));
    await probeOnce(port, agent);
    if (agent.accepted.size === 0) break; // nothing answered any more: throttled
    for (const k of agent.accepted) answered.add(k);
    offset += agent.accepted.size;
  }
  const agent = { accepted: answered };

  // Indistinguishable: both contacts were answered, and so was every stranger asked before them.
  assert.ok(agent.accepted.has(blob(publicKeyLine(bob.node.publicKey))));
  assert.ok(agent.accepted.has(blob(publicKeyLine(carol.node.publicKey))));
  for (let i = 0; i < 30; i++) assert.ok(agent.accepted.has(blob(lines[i]!)), `key #${i}`);
  // Throttled: far from 1,000 answers, and the victim says which source it throttles.
  assert.ok(agent.accepted.size <= 64, `${agent.accepted.size} keys answered`);
  await alice.waitFor((e) => e.type === "auth-throttled" && e.source === "127.0.0.52", 5000);
  // The victim's contacts still log in from their own addresses.
  const contacts = await alice.node.call("contacts", {});
  assert.deepEqual(contacts.map((c) => [c.name, c.online]).sort(), [
    ["bob", true],
    ["carol", true],
  ]);
});
