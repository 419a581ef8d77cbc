/**
 * `roj identity …`: this identity writing on another node too (a copied data
 * folder or key, see node/identity_guard). `roj status` says so in one line;
 * `roj identity resolve` clears it once the person has stopped the other node
 * (or given it an identity of its own), writing this node's set-aside
 * messages again on top of the chain its contacts took, so none is lost.
 */
import type { Command } from "commander";
import { type ControlClient, jsonLine } from "../node/mod.ts";
import { escapeControl, identityText } from "./format.ts";
import type { CliIo } from "./io.ts";
import { dataOption } from "./options.ts";
import { withControl } from "./commands_node.ts";
import { parseDuration } from "./duration.ts";

interface JsonOpts {
  data?: string;
  json?: boolean;
}

/**
 * Waits up to `ms` for the re-bases `resolve` started (an `identity` event
 * `rebased` for each chat): resolves with the re-do lines they left and the
 * chats still waiting.
 */
async function waitRebased(
  client: ControlClient,
  rebasing: readonly string[],
  ms: number,
): Promise<{ redo: string[]; waiting: string[] }> {
  const waiting = new Set(rebasing);
  const redo: string[] = [];
  let wake: () => void = () => {};
  client.follow({}, (e) => {
    if (e.type !== "identity" || e.op !== "rebased" || !waiting.delete(e.chat)) return;
    redo.push(...(e.redo ?? []));
    if (waiting.size === 0) wake();
  }).catch(() => {}); // ends when the connection closes
  // A re-base may have ended before following began: status has its re-do lines then.
  const s = await client.call("status", {});
  for (const c of [...waiting]) if (!s.identity?.rebasing.includes(c)) waiting.delete(c);
  if (waiting.size > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (waiting.size === 0) resolve();
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
  }
  const after = await client.call("status", {});
  return { redo: [...(after.identity?.redo ?? redo)], waiting: [...waiting] };
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
        for (const line of s.identity?.redo ?? []) io.out(`${escapeControl(line)}\n`);
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
    .option(
      "--wait <duration>",
      "wait up to this long (e.g. 30s) for the messages to be written again, then print the" +
        " group membership changes to re-do by hand (also in `roj identity status`)",
      (v: string) => parseDuration(v, { min: 1, max: 300 }) * 1000,
    )
    .action((opts: JsonOpts & { wait?: number }) =>
      withControl(opts, async (client) => {
        const r = await client.call("identity.resolve", {});
        const done = opts.wait && r.rebasing.length > 0
          ? await waitRebased(client, r.rebasing, opts.wait)
          : null;
        if (opts.json) return io.out(jsonLine(done ? { ...r, ...done } : r) + "\n");
        io.out(
          r.rebasing.length === 0
            ? "resolved: nothing to write again here\n"
            : `resolved: ${r.setAside} entries set aside in ${
              r.rebasing.map(escapeControl).join(", ")
            }; ${
              done
                ? done.waiting.length === 0
                  ? "written again"
                  : `still waiting for ${done.waiting.map(escapeControl).join(", ")}`
                : "they are written again once the contact's copy is in"
            }\n`,
        );
        for (const line of done?.redo ?? []) io.out(`${escapeControl(line)}\n`);
      })
    );
}
