/** Running real OpenSSH `sftp` in batch mode against a node, for tests. */
import type { RojNode } from "../node/mod.ts";

/** Runs the sftp batch `script` as the holder of `keyFile` against `node`, in `cwd`. */
export async function sftp(keyFile: string, node: RojNode, script: string, cwd: string) {
  const child = new Deno.Command("sftp", {
    args: [
      ...["-b", "-", "-P", String(node.address!.port), "-i", keyFile],
      ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
      ...["-o", "BatchMode=yes", "-o", "LogLevel=ERROR", `roj@${node.address!.host}`],
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    cwd,
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(script));
  await w.close();
  const res = await child.output();
  const dec = new TextDecoder();
  return { code: res.code, stdout: dec.decode(res.stdout), stderr: dec.decode(res.stderr) };
}
