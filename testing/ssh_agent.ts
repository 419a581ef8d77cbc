/**
 * Test helper: a real OpenSSH `ssh-agent` on a socket of our own, and
 * `ssh-add` into it. The agent runs in the foreground (-D), so killing the
 * child kills it; it is ready once it has printed its SSH_AUTH_SOCK line.
 */
import { sshKeygenOk } from "./ssh_keygen.ts";

export interface SshAgent extends AsyncDisposable {
  /** The agent's socket, for SSH_AUTH_SOCK. */
  readonly socket: string;
  /** The running agent's pid. */
  readonly pid: number;
  /** `ssh-add file`; throws unless it succeeds. */
  add(keyFile: string): Promise<void>;
  /** Kills the agent and waits until it is gone (its socket too). */
  kill(): Promise<void>;
}

/** Starts `ssh-agent -D -a <dir>/agent.sock`. */
export async function startSshAgent(dir: string, name = "agent.sock"): Promise<SshAgent> {
  const socket = `${dir}/${name}`;
  const child = new Deno.Command("ssh-agent", {
    args: ["-D", "-a", socket],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  // Ready once it says where it listens (it binds the socket before).
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!said.includes("SSH_AUTH_SOCK=")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`ssh-agent exited before listening at ${socket}`);
    said += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  let alive = true;
  const kill = async () => {
    if (!alive) return;
    alive = false;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(socket).catch(() => {});
  };
  return {
    socket,
    pid: child.pid,
    async add(keyFile) {
      const out = await new Deno.Command("ssh-add", {
        args: ["-q", keyFile],
        env: { SSH_AUTH_SOCK: socket, SSH_ASKPASS: "/bin/false", DISPLAY: "" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (out.code !== 0) {
        throw new Error(
          `ssh-add ${keyFile} exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`,
        );
      }
    },
    kill,
    [Symbol.asyncDispose]: kill,
  };
}

/** Makes an unencrypted ed25519 key with ssh-keygen at `path` (and `path`.pub). */
export async function makeEd25519Key(path: string, comment = "test"): Promise<void> {
  await sshKeygenOk(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path]);
}
