/**
 * A person's devices: `roj device link` (a one-time link code, on the node
 * that holds the person key), `roj devices` (the devices certified there),
 * and the new device's side, `roj init --join <code>` (joinDevice, called by
 * `roj init`), which needs no running node.
 */
import type { Command } from "commander";
import {
  type DeviceView,
  escapeControl,
  joinPerson,
  type JoinStep,
  jsonLine,
  type NodeEvent,
  readLentKey,
  resolveDataDir,
  RojError,
} from "../node/mod.ts";
import { shortTime, table } from "./format.ts";
import type { CliIo } from "./io.ts";
import { dataOption } from "./options.ts";
import { qrText, withControl } from "./commands_node.ts";
import { askPassphrase } from "./passphrase.ts";

/** `--key FILE`: the exported person key, lent to the node for this one call. */
const keyOption = () =>
  [
    "--key <file>",
    "the person key `roj key export` wrote (its passphrase is asked for, or $ROJ_PASSPHRASE):" +
    " needed on a device once the person key is offline",
  ] as const;

/** The `personKey` param for `--key FILE`, read before the node is asked anything. */
const lent = async (file: string | undefined) =>
  file === undefined ? {} : { personKey: await readLentKey(file, askPassphrase) };

interface JsonOpts {
  data?: string;
  json?: boolean;
}

const json = (value: unknown) => jsonLine(value) + "\n";

/** `roj devices`: name, fingerprint, certified since, valid until, online (on a device, the person key's node too). */
export function deviceLines(list: readonly DeviceView[]): string[] {
  if (list.length === 0) return ["(no devices linked; link one with `roj device link`)"];
  return table(list.map((d) => [
    d.name + (d.self ? " (this device)" : ""),
    d.fingerprint,
    // On a device: the node with the person key, which certified it.
    d.standing === "person" ? "the person key" : `since ${shortTime(d.certifiedSince)}`,
    d.standing === "person"
      ? ""
      : d.standing === "revoked"
      ? "revoked"
      : d.validUntil === null
      ? "valid forever"
      : `${d.standing === "valid" ? "valid until" : d.standing} ${shortTime(d.validUntil)}${
        d.renewalDue ? " (renewal due)" : ""
      }`,
    d.self ? "" : d.online ? "online" : "offline",
  ]));
}

/** One warning per device whose renewal is due and did not happen (the person key not at hand). */
export function renewalWarnings(list: readonly DeviceView[]): string[] {
  return list.filter((d) => d.renewalDue && d.renewalBlocked !== null).map((d) =>
    `warning: ${escapeControl(d.name)}'s certificate ends ${
      shortTime(d.validUntil!)
    } and is due for renewal, but the person key is not at hand: ${
      escapeControl(d.renewalBlocked!)
    }`
  );
}

/** `roj init --join`: links this new folder as a device of the code's person. */
export async function joinDevice(
  io: CliIo,
  opts: {
    data?: string;
    join: string;
    name?: string;
    json?: boolean;
    key?: string;
    agent?: boolean;
    passphrase?: boolean;
    events?: string;
  },
): Promise<void> {
  if (opts.key !== undefined || opts.agent || opts.passphrase) {
    throw new RojError(
      "usage",
      "--join makes this device's own new key; --key, --agent and --passphrase do not apply",
    );
  }
  const dir = resolveDataDir(opts.data);
  const r = await joinPerson(dir, opts.join, {
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    onStep: joinSteps(opts.events),
  });
  if (opts.json) return io.out(json(r));
  io.out(
    `linked ${r.device} as a device of ${
      escapeControl(r.person)
    } (${r.personFingerprint}) in ${dir}\n` +
      `this device: ${r.fingerprint}  (compare it with what the linking device shows)\n` +
      `certificate valid until ${shortTime(r.validUntil)}\n`,
  );
}

/**
 * Each step of `roj init --join` (node/linking/join.ts), as the JSON line
 * `{"type":"join","step":…}` appended to `--events FILE` (synchronously, so
 * a SIGKILL right after loses none). A test that kills the process at a step
 * sets $ROJ_TEST_JOIN_HOLD to it: linking then waits there for good (unset
 * outside tests: the tasks pass --ignore-env).
 */
function joinSteps(events: string | undefined): (step: JoinStep) => Promise<void> {
  let hold: string | undefined;
  try {
    hold = Deno.env.get("ROJ_TEST_JOIN_HOLD");
  } catch {
    hold = undefined;
  }
  return (step) => {
    if (events !== undefined) {
      const line = new TextEncoder().encode(`${JSON.stringify({ type: "join", step })}\n`);
      const file = Deno.openSync(events, { write: true, append: true, create: true, mode: 0o600 });
      try {
        for (let at = 0; at < line.length;) at += file.writeSync(line.subarray(at));
      } finally {
        file.close();
      }
    }
    if (step !== hold) return Promise.resolve();
    return new Promise(() => setInterval(() => {}, 60_000));
  };
}

/** Adds `roj device link` and `roj devices` to `program`. */
export function addDeviceCommands(program: Command, io: CliIo): void {
  const device = program.command("device")
    .description("link a new device of yours (on the node that holds your person key)");
  device.command("link")
    .description(
      "make a one-time link code (valid 10 minutes) for `roj init --join` on the new device;" +
        " the node must run and listen",
    )
    .addOption(dataOption())
    .option("--wait", "wait until a device uses the code and print its fingerprint")
    .option("--qr", "also print the code as a QR code")
    .option(...keyOption())
    .option(
      "--json",
      "print as JSON: text, expires, addresses (and, with --wait, the linked device)",
    )
    .action(async (opts: JsonOpts & { wait?: boolean; qr?: boolean; key?: string }) => {
      const key = await lent(opts.key);
      await withControl(opts, async (client) => {
        let linked: ((e: NodeEvent) => void) | undefined;
        const seen = new Promise<NodeEvent & { type: "device" }>((resolve) => {
          linked = (e) => {
            if (e.type === "device" && e.op === "linked") resolve(e);
          };
        });
        // Listening before the code exists, so no link is missed.
        const following = opts.wait ? client.follow({}, (e) => linked!(e)) : undefined;
        following?.catch(() => {});
        const code = await client.call("device.link", key);
        if (!opts.wait || !opts.json) {
          io.out(
            opts.json ? json(code) : `${code.text}\nvalid until ${shortTime(code.expires)}, once:` +
              ` on the new device run  roj init --data DIR --join '<the code>' [--name NAME]\n`,
          );
          if (opts.qr && !opts.json) io.out(`\n${qrText(code.text)}\n`);
        }
        if (!opts.wait) return;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), Math.max(0, code.expires - Date.now()));
        });
        const e = await Promise.race([seen, timeout]);
        clearTimeout(timer);
        if (!e) {
          throw new RojError(
            "timeout",
            "no device used the code before it expired",
          );
        }
        if (opts.json) {
          return io.out(json({ ...code, linked: { name: e.name, fingerprint: e.fingerprint } }));
        }
        io.out(
          `linked ${e.name ?? "a device"}: ${e.fingerprint}  (compare it with the new device's)\n`,
        );
      });
    });

  device.command("remove")
    .description(
      "revoke a device of yours: a revocation signed by your key, handed to your contacts now and" +
        " as they come online; they refuse the device from then on",
    )
    .argument("<name>", "the device's name, as `roj devices` shows it")
    .addOption(dataOption())
    .option(...keyOption())
    .option("--json", "print the device as JSON")
    .action(async (name: string, opts: JsonOpts & { key?: string }) => {
      const key = await lent(opts.key);
      await withControl(opts, async (client) => {
        const d = await client.call("device.remove", { name, ...key });
        io.out(
          opts.json
            ? json(d)
            : `removed ${
              escapeControl(d.name)
            } (${d.fingerprint}): your contacts refuse it from now on\n`,
        );
      });
    });

  device.command("renew")
    .description(
      "renew now the certificates that are due (the node renews them by itself while it holds" +
        " the person key; once the key is offline, give it with --key)",
    )
    .addOption(dataOption())
    .option(...keyOption())
    .option("--json", "print the devices as JSON, as `roj devices --json`")
    .action(async (opts: JsonOpts & { key?: string }) => {
      const key = await lent(opts.key);
      await withControl(opts, async (client) => {
        const list = await client.call("device.renew", key);
        io.out(opts.json ? json(list) : deviceLines(list).join("\n") + "\n");
      });
    });

  program.command("devices")
    .description("your devices: name, fingerprint, certified since, valid until, online")
    .addOption(dataOption())
    .option(
      "--json",
      "print as a JSON array of {name, fingerprint, certifiedSince, validUntil, standing, renewalDue, online, self}",
    )
    .action((opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const list = await client.call("devices", {});
        io.out(opts.json ? json(list) : deviceLines(list).join("\n") + "\n");
        if (!opts.json) { for (const w of renewalWarnings(list)) io.err(`${w}\n`); }
      })
    );
}
