/** Running the CLI in this process with its output captured, for tests. */
import { runCli } from "../cli/cli.ts";
import type { CliIo } from "../cli/io.ts";

/** What one CLI run printed, and its exit status. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `roj <args>` in this process, capturing stdout and stderr; Ctrl-C is
 * never delivered unless `io.onInterrupt` says otherwise.
 */
export async function cliRun(args: string[], io: Partial<CliIo> = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    onInterrupt: () => () => {},
    ...io,
  });
  return { code, stdout, stderr };
}

/** A TCP port free on `host` now, for commands that take no port 0 (`roj run --listen`). */
export function freePort(host: string): number {
  const l = Deno.listen({ hostname: host, port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/**
 * Runs `roj <args>` as a child process (main.ts under this deno, every
 * permission) to its end, optionally under another `umask`, which the child
 * inherits.
 */
export async function rojProcess(
  args: string[],
  options: { umask?: number; env?: Readonly<Record<string, string>> } = {},
): Promise<CliRun> {
  const old = options.umask === undefined ? undefined : Deno.umask(options.umask);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--allow-all", MAIN, ...args],
      env: { ...options.env, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    if (old !== undefined) Deno.umask(old);
  }
}
