/** Where the CLI prints, and how it hears Ctrl-C: the process's, or a test's. */
const encoder = new TextEncoder();

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /**
   * Calls `stop` on Ctrl-C or SIGTERM until the returned function is called.
   * @default the process's SIGINT and SIGTERM
   */
  onInterrupt?(stop: () => void): () => void;
}

/** Listens for SIGINT and SIGTERM (SIGTERM only where the platform has it). */
export function onProcessInterrupt(stop: () => void): () => void {
  const handler = () => stop();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, handler);
  return () => {
    for (const s of signals) Deno.removeSignalListener(s, handler);
  };
}

export const stdio: CliIo = {
  out: (t) => Deno.stdout.writeSync(encoder.encode(t)),
  err: (t) => Deno.stderr.writeSync(encoder.encode(t)),
  onInterrupt: onProcessInterrupt,
};
