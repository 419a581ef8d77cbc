/**
 * `roj identity …`: this identity writing on another node too (a copied data
 * folder or key, see node/identity_guard). `roj status` says so in one line;
 * `roj identity resolve` clears it once the person has stopped the other node
 * (or given it an identity of its own), writing this node's set-aside
 * messages again on top of the chain its contacts took, so none is lost.
 */
import type { Command } from "commander";
import { jsonLine } from "../node/mod.ts";
import { escapeControl, identityText } from "./format.ts";
import type { CliIo } from "./io.ts";
import { dataOption } from "./options.ts";
import { withControl } from "./commands_node.ts";

interface JsonOpts {
  data?: string;
  json?: boolean;
}

/** Adds `roj identity` and its subcommands to `program`. */
export function addIdentityCommands(program: Command, io: CliIo): void {
  const identity = program.command("identity")
    .summary("this identity on two nodes at once: see it, resolve it")
    .description(
      "when this identity's key also writes on another node (a copied data folder or key)," +
        " `roj status` says so in one line; resolve it here once the other node is stopped",
    );

  identity.command("status")
    .description("whether this identity writes on another node too, in one line")
    .addOption(dataOption())
    .option("--json", "print the identity guard's state as JSON")
    .action((opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const s = await client.call("status", {});
        if (opts.json) return io.out(jsonLine(s.identity ?? { rebasing: [] }) + "\n");
        io.out(`${identityText(s.identity) ?? "no other node writes on this identity"}\n`);
      })
    );

  identity.command("resolve")
    .description(
      "after stopping the other node (or giving it an identity of its own): clear the notice;" +
        " where the contacts took the other node's messages, this node's are set aside and" +
        " written again after them once a contact's copy is in, so no message is lost",
    )
    .addOption(dataOption())
    .option("--json", "print what was done as JSON: rebasing (chats), setAside (entries)")
    .action((opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const r = await client.call("identity.resolve", {});
        if (opts.json) return io.out(jsonLine(r) + "\n");
        io.out(
          r.rebasing.length === 0
            ? "resolved: nothing to write again here\n"
            : `resolved: ${r.setAside} entries set aside in ${
              r.rebasing.map(escapeControl).join(", ")
            }; they are written again once the contact's copy is in\n`,
        );
      })
    );
}
