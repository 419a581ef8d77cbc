/**
 * A passive anchor for NAT lab tests that writes every byte it splices
 * between two relayed peers to `<data>/relay-tap.bin`, so a test in another
 * process can check what a relay sees. Test-only: `roj run` has no such tap.
 *
 * Takes the arguments spawnNode gives `roj run`:
 *   run --data DIR --listen HOST:PORT --no-web --events FILE [--passive]
 */
import { serveControl } from "../node/control/mod.ts";
import { controlSocketPath } from "../node/control/mod.ts";
import { RojNode } from "../node/node.ts";
import { parseEndpoint } from "../node/transport/ssh.ts";
import { appendEvents } from "../cli/events_file.ts";

export const TAP_FILE = "relay-tap.bin";

if (import.meta.main) {
  const arg = (name: string) => {
    const i = Deno.args.indexOf(name);
    const v = i >= 0 ? Deno.args[i + 1] : undefined;
    if (!v) throw new Error(`tapped_anchor: ${name} is required`);
    return v;
  };
  const dir = arg("--data");
  const listen = parseEndpoint(arg("--listen"));
  const stamp = () => new Date().toISOString().slice(11, 19);
  const node = await RojNode.open({
    dataDir: dir,
    log: (line) => console.log(`${stamp()} ${line}`),
    listen,
    passive: true,
    relay: { enabled: true },
  });
  const closeEvents = appendEvents(node, arg("--events"));
  const tap = await Deno.open(`${dir}/${TAP_FILE}`, { create: true, append: true });
  node.relay.tap((_from, chunk) => {
    tap.writeSync(chunk);
  });
  const control = await serveControl(controlSocketPath(dir), node, {});
  await node.start();
  await new Promise<void>((resolve) => {
    Deno.addSignalListener("SIGTERM", resolve);
    Deno.addSignalListener("SIGINT", resolve);
  });
  await control.close();
  await node.close();
  closeEvents();
  tap.close();
}
