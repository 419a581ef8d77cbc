/** Test helpers: running the real `ssh-keygen`, and temporary directories. */

/** What a finished `ssh-keygen` run printed. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Whether `ssh-keygen` can be run here; interop tests are skipped otherwise. */
export const HAS_SSH_KEYGEN: boolean = await (async () => {
  try {
    const cmd = new Deno.Command("ssh-keygen", { args: ["-?"], stdout: "null", stderr: "null" });
    await cmd.output();
    return true;
  } catch {
    return false;
  }
})();

/** Runs `ssh-keygen args…`, feeding `stdin` when given. */
export async function sshKeygen(args: string[], stdin?: Uint8Array): Promise<RunResult> {
  const child = new Deno.Command("ssh-keygen", {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Like {@linkcode sshKeygen}, but throws unless it exits 0; returns stdout. */
export async function sshKeygenOk(args: string[], stdin?: Uint8Array): Promise<string> {
  const r = await sshKeygen(args, stdin);
  if (r.code !== 0) throw new Error(`ssh-keygen ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Runs `f` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "roj-identity-" });
  try {
    return await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes a private key file with mode 0600, as ssh-keygen insists on. */
export async function writeKeyFile(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
}
