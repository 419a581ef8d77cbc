/**
 * Guards the layout: node/ never imports the admin (routes/, islands/, hono,
 * preact) or the CLI, and only node/transport/ imports ssh2.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* tsFiles(path);
    else if (e.name.endsWith(".ts") || e.name.endsWith(".tsx")) yield path;
  }
}

function imports(source: string): string[] {
  return [
    ...source.matchAll(
      /(?:import|export)[^"';]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)/g,
    ),
  ]
    .map((m) => m[1] ?? m[2]!);
}

Deno.test("node/ imports neither the admin nor the CLI, and only transport/ imports ssh2", async () => {
  const offences: string[] = [];
  for await (const file of tsFiles(`${ROOT}node`)) {
    const rel = file.slice(ROOT.length);
    for (const spec of imports(await Deno.readTextFile(file))) {
      if (/(^|\/)(routes|islands|cli)\//.test(spec) || /^(npm:)?(hono|preact)/.test(spec)) {
        offences.push(`${rel} imports ${spec}`);
      }
      if (/^(npm:)?ssh2/.test(spec) && !rel.startsWith("node/transport/")) {
        offences.push(`${rel} imports ${spec}`);
      }
    }
  }
  assert.deepEqual(offences, []);
});
