/** The `roj` CLI entry: `deno task roj …`, or the compiled binary. */
import { runCli } from "./cli/cli.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
