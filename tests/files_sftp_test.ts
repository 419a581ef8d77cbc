/** A contact downloads a chat's files with plain OpenSSH `sftp` from a real node: /files/<chat>/<name>. */
import assert from "node:assert/strict";
import { sftp } from "../testing/sftp.ts";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { tempDir } from "../testing/temp.ts";

Deno.test("OpenSSH sftp: ls and get /files/<chat>/<name>, a resumed reget, read-only, only one's own chat", async () => {
  await using work = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.2", quic: false });
  await using b = await startTestNode("bob", { host: "127.0.0.3", quic: false });
  await using c = await startTestNode("carol", { host: "127.0.0.4", quic: false });
  await befriend(a, b);
  await befriend(a, c);
  const bytes = new Uint8Array(700_001);
  for (let i = 0; i < bytes.length; i += 65536) {
    crypto.getRandomValues(bytes.subarray(i, i + 65536));
  }
  await Deno.writeFile(`${work.path}/photo.jpg`, bytes);
  await a.node.call("file.send", { chat: "bob", path: `${work.path}/photo.jpg` });
  await a.node.call("file.send", { chat: "bob", path: `${work.path}/photo.jpg`, caption: "again" });
  await b.waitFor((e) => e.type === "file" && e.op === "complete" && e.side === "receive");

  const listed = await sftp(`${b.dir}/id_ed25519`, a.node, "ls\nls -l /files/bob\n", work.path);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /chats\s+files/);
  assert.match(listed.stdout, / 700001 .* photo\.jpg\n/);
  assert.match(listed.stdout, / 700001 .* photo \(2\)\.jpg\n/, "a second file of the same name");

  await Deno.mkdir(`${work.path}/dl`);
  const got = await sftp(
    `${b.dir}/id_ed25519`,
    a.node,
    "get /files/bob/photo.jpg\n",
    `${work.path}/dl`,
  );
  assert.equal(got.code, 0, got.stderr);
  assert.deepEqual(await Deno.readFile(`${work.path}/dl/photo.jpg`), bytes);

  // A download cut short, resumed: reget reads only from where the local copy ends.
  await Deno.writeFile(`${work.path}/dl/part.jpg`, bytes.subarray(0, 300_000));
  const resumed = await sftp(
    `${b.dir}/id_ed25519`,
    a.node,
    "reget /files/bob/photo.jpg part.jpg\n",
    `${work.path}/dl`,
  );
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(await Deno.readFile(`${work.path}/dl/part.jpg`), bytes);

  // Read-only, and nothing of bob's chat for carol.
  const put = await sftp(
    `${b.dir}/id_ed25519`,
    a.node,
    "put photo.jpg /files/bob/x.jpg\n",
    `${work.path}/dl`,
  );
  assert.notEqual(put.code, 0);
  const carol = await sftp(
    `${c.dir}/id_ed25519`,
    a.node,
    "ls /files\nls /files/carol\n",
    work.path,
  );
  assert.equal(carol.code, 0, carol.stderr);
  assert.doesNotMatch(carol.stdout, /photo|bob/);
  const peek = await sftp(
    `${c.dir}/id_ed25519`,
    a.node,
    "get /files/bob/photo.jpg\n",
    `${work.path}/dl`,
  );
  assert.notEqual(peek.code, 0);
});
