/**
 * `roj group …`: found a group, add and remove members, list them, leave.
 * Messages go with `roj send <group> <text>` and `roj read <group>` like any chat.
 * Each subcommand talks to the running node over its control socket.
 */
import type { Command } from "commander";
import { type GroupStateView, type GroupView, jsonLine, type MemberView } from "../node/mod.ts";
import { escapeControl, table } from "./format.ts";
import type { CliIo } from "./io.ts";
import { dataOption } from "./options.ts";
import { withControl } from "./commands_node.ts";

interface JsonOpts {
  data?: string;
  json?: boolean;
}

const json = (value: unknown) => jsonLine(value) + "\n";

/** `roj group members`: name, fingerprint, admin, you. */
export function memberLines(members: readonly MemberView[]): string[] {
  if (members.length === 0) return ["(no members)"];
  return table(members.map((m) => [
    escapeControl(m.name),
    m.fingerprint,
    [m.admin ? "admin" : "", m.me ? "(you)" : ""].filter(Boolean).join(" "),
  ]));
}

function groupText(g: GroupView): string {
  return `${escapeControl(g.name)} (${g.id}): ${g.members.length} member${
    g.members.length === 1 ? "" : "s"
  }\n${memberLines(g.members).join("\n")}\n`;
}

/** "you were removed from climbers by alice; …", for a group this node is out of. */
export function goneLine(s: GroupStateView): string {
  const what = s.departed === "removed"
    ? `you were removed from ${escapeControl(s.name)}${s.by ? ` by ${escapeControl(s.by)}` : ""}`
    : `you left ${escapeControl(s.name)}`;
  return s.hidden
    ? `${what} (deleted from your list)`
    : `${what}; \`roj group forget ${escapeControl(s.name)}\` deletes it from your list`;
}

/** Adds `roj group` and its subcommands to `program`. */
export function addGroupCommands(program: Command, io: CliIo): void {
  const group = program.command("group")
    .summary("group chats: create, add, remove, promote, members, leave, forget")
    .description(
      "group chats: every member's messages reach every member, through any member online." +
        " Send and read with `roj send <group> <text>` and `roj read <group>`",
    );

  group.command("create")
    .description("found a group with you as its only member and admin")
    .argument("<name>", "the group's name (1 to 64 characters)")
    .addOption(dataOption())
    .option("--json", "print the group as JSON: name, id, members")
    .action((name: string, opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const g = await client.call("group.create", { name });
        io.out(opts.json ? json(g) : `created ${groupText(g)}`);
      })
    );

  group.command("add")
    .description("add contacts to a group (admins only); they join when a member reaches them")
    .argument("<group>", "the group's name")
    .argument("<contacts...>", "one or more contact names")
    .addOption(dataOption())
    .option("--json", "print the group as JSON: name, id, members")
    .action((name: string, members: string[], opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const g = await client.call("group.add", { group: name, members });
        io.out(opts.json ? json(g) : groupText(g));
      })
    );

  for (
    const [cmd, what, done] of [
      [
        "remove",
        "remove a member (admins only): they cannot read anything written afterwards",
        "removed",
      ],
      ["promote", "make a member an admin (admins only)", "promoted"],
    ] as const
  ) {
    group.command(cmd)
      .description(what)
      .argument("<group>", "the group's name")
      .argument("<member>", "the member's name as `roj group members` shows it, or fingerprint")
      .addOption(dataOption())
      .option("--json", "print the group as JSON: name, id, members")
      .action((name: string, member: string, opts: JsonOpts) =>
        withControl(opts, async (client) => {
          const g = await client.call(`group.${cmd}`, { group: name, member });
          io.out(opts.json ? json(g) : `${done} ${escapeControl(member)}\n${groupText(g)}`);
        })
      );
  }

  group.command("members")
    .description("list a group's current members: name, fingerprint, admin")
    .argument("<group>", "the group's name")
    .addOption(dataOption())
    .option("--json", "print as a JSON array of {name, fingerprint, admin, me}")
    .action((name: string, opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const members = await client.call("group.members", { group: name });
        io.out(opts.json ? json(members) : memberLines(members).join("\n") + "\n");
        if (!opts.json && !members.some((m) => m.me)) {
          io.err(`${goneLine(await client.call("group.state", { group: name }))}\n`);
        }
      })
    );

  group.command("leave")
    .description("leave a group: the others get a new key; the history stays readable here")
    .argument("<group>", "the group's name")
    .addOption(dataOption())
    .option("--json", "print the result as JSON")
    .action((name: string, opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const r = await client.call("group.leave", { group: name });
        io.out(opts.json ? json(r) : `left ${escapeControl(r.left)}\n`);
      })
    );

  group.command("forget")
    .description(
      "delete a group you were removed from (or left) from your list; its history stays" +
        " readable with `roj read <group>`, and being added again brings it back",
    )
    .argument("<group>", "the group's name")
    .addOption(dataOption())
    .option("--json", "print the result as JSON")
    .action((name: string, opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const r = await client.call("group.forget", { group: name });
        io.out(opts.json ? json(r) : `deleted ${escapeControl(r.forgot)} from your list\n`);
      })
    );
}
