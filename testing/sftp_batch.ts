/** Running OpenSSH's `sftp -b -` against a node, as a contact with its key file. */
import type { RojNode } from "../node/mod.ts";

export async function sftpBatch(keyFile: string, node: RojNode, script: string, cwd: string) {
  const child = new Deno.Command("sftp", {
    args: [
      "-b",
      "-",
      "-P",
      String(node.address!.port),
      "-i",
      keyFile,
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "BatchMode=yes",
      "-o",
      "LogLevel=ERROR",
      `roj@${node.address!.host}`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    cwd,
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(script));
  await w.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
