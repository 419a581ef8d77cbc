/**
 * `roj admin`: the sign-in URL of the running node's web admin, at any time,
 * so nobody scrolls back through `roj run`'s output for it. The token is kept
 * in the data folder (`admin-token`, 0600) and stays until `--rotate` makes a
 * new one, which signs every browser out and stops every old URL and bookmark.
 */
import type { Command } from "commander";
import { jsonLine, resolveDataDir, RojError } from "../node/mod.ts";
import { noNodeError } from "../node/mod.ts";
import { loadAdminToken, readAdminOrigin, rotateAdminToken } from "../routes/mod.ts";
import { tryControl } from "./commands_node.ts";
import type { CliIo } from "./io.ts";
import { dataOption } from "./options.ts";

interface AdminOpts {
  data?: string;
  rotate?: boolean;
  json?: boolean;
}

/** Adds `roj admin` to `program`. */
export function addAdminCommands(program: Command, io: CliIo): void {
  program.command("admin")
    .summary("print the web admin's sign-in URL; --rotate makes a new token")
    .description(
      "print the sign-in URL of the running node's web admin. The token in it is kept in the" +
        " data folder (admin-token, readable only by you), so the URL and a signed-in browser" +
        " keep working across restarts. --rotate makes a new token: every old URL, bookmark and" +
        " signed-in browser stops working at once (works without a running node too)",
    )
    .addOption(dataOption())
    .option("--rotate", "make a new token and sign every browser out")
    .option("--json", "print as JSON: url (null when no node runs), rotated")
    .action(async (opts: AdminOpts) => {
      const dir = resolveDataDir(opts.data);
      const client = await tryControl(dir);
      await client?.close();
      // Never a token file in a folder that is not a node's.
      if (!client && !(await Deno.stat(`${dir}/roj.kv`).then(() => true, () => false))) {
        throw noNodeError(dir);
      }
      const token = opts.rotate ? await rotateAdminToken(dir) : null;
      if (!client) {
        if (!token) throw noNodeError(dir);
        if (opts.json) io.out(jsonLine({ url: null, rotated: true }) + "\n");
        else {
          io.out(
            "rotated: old sign-in URLs and signed-in browsers no longer work;" +
              ` no node runs in ${dir}, so \`roj run\` prints the new URL when it starts\n`,
          );
        }
        return;
      }
      const origin = await readAdminOrigin(dir);
      if (origin === null) {
        throw new RojError(
          "not_found",
          `the node in ${dir} serves no web admin (started with --no-web?)` +
            (token ? "; the token is rotated all the same" : ""),
        );
      }
      const url = `${origin}/?token=${token ?? (await loadAdminToken(dir)).token}`;
      if (opts.json) io.out(jsonLine({ url, rotated: token !== null }) + "\n");
      else {
        if (token) io.out("rotated: old sign-in URLs and signed-in browsers no longer work\n");
        io.out(`admin: ${url}\n`);
      }
    });
}
