/** `roj run --relay-rate`: a size, bounded, told in --help, and of no use with --no-relay. */
import assert from "node:assert/strict";
import { cliRun as cli } from "../testing/cli_run.ts";

Deno.test("roj run --relay-rate: checked before the node starts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = (...more: string[]) => cli(["run", "--data", dir, "--no-web", ...more]);
    const off = await run("--relay-rate", "8M", "--no-relay");
    assert.equal(off.code, 2);
    assert.match(off.stderr, /^roj: bad_input: --relay-rate has no use with --no-relay\n$/);
    const over = await run("--passive", "--relay-rate", "2G");
    assert.equal(over.code, 2);
    assert.match(over.stderr, /^roj: bad_input: --relay-rate is at most 1G, got 2G\n$/);
    const junk = await run("--relay-rate", "fast");
    assert.equal(junk.code, 2);
    assert.match(junk.stderr, /^roj: bad_input: expected a size/);
    // Nothing was started or created for any of them.
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    const help = await cli(["run", "--help"]);
    assert.match(help.stdout, /--relay-rate <size>/);
    assert.match(help.stdout, /default 4M/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
