/** A member downloads a group's files with plain OpenSSH `sftp` from another member's node: /files/<group>/<name>, in plain. */
import assert from "node:assert/strict";
import { sftp } from "../testing/sftp.ts";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { foundGroup } from "../testing/groups.ts";
import { content } from "../testing/bytes.ts";
import { tempDir } from "../testing/temp.ts";

Deno.test("OpenSSH sftp: a member gets /files/<group>/<name> in plain; a contact outside the group sees nothing of it", async () => {
  await using work = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.2", quic: false });
  await using b = await startTestNode("bob", { host: "127.0.0.3", quic: false });
  await using c = await startTestNode("carol", { host: "127.0.0.4", quic: false });
  await befriend(a, b);
  await befriend(a, c);
  await foundGroup(a, [b]);
  const bytes = content(400_001, 4);
  await Deno.writeFile(`${work.path}/topo.pdf`, bytes);
  await a.node.call("file.send", { chat: "climbers", path: `${work.path}/topo.pdf` });

  const listed = await sftp(`${b.dir}/id_ed25519`, a.node, "ls -l /files/climbers\n", work.path);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, / 400001 .* topo\.pdf\n/);
  await Deno.mkdir(`${work.path}/dl`);
  const got = await sftp(
    `${b.dir}/id_ed25519`,
    a.node,
    "get /files/climbers/topo.pdf\n",
    `${work.path}/dl`,
  );
  assert.equal(got.code, 0, got.stderr);
  assert.deepEqual(await Deno.readFile(`${work.path}/dl/topo.pdf`), bytes);

  const carol = await sftp(`${c.dir}/id_ed25519`, a.node, "ls /files\n", work.path);
  assert.equal(carol.code, 0, carol.stderr);
  assert.doesNotMatch(carol.stdout, /climbers/);
  const peek = await sftp(
    `${c.dir}/id_ed25519`,
    a.node,
    "get /files/climbers/topo.pdf\n",
    `${work.path}/dl`,
  );
  assert.notEqual(peek.code, 0);
});
