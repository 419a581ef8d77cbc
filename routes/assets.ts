/**
 * The files the admin serves itself (no CDN): the stylesheet, an icon, and the
 * islands bundled for the browser with `deno bundle --platform browser` when
 * the admin starts, kept in memory. Needs run permission for the running deno
 * executable only (see README); without it pages still work, without live parts.
 */
import { fileURLToPath } from "node:url";

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">` +
  `<polygon points="16,2 28,9 28,23 16,30 4,23 4,9" fill="#d4a017" stroke="#5c4400" stroke-width="2"/>` +
  `</svg>`;

export interface Asset {
  readonly body: Uint8Array;
  readonly type: string;
}

export interface Assets {
  /** By path under /static/; the islands bundle may still be building. */
  get(path: string): Promise<Asset | undefined>;
  /** Starts bundling the islands if it has not started. */
  warm(): void;
}

const here = (rel: string) => new URL(rel, import.meta.url);

// One bundle per process: it depends only on the files in islands/, and many admins
// (tests) share it. A failed build is forgotten so that the next start tries again.
let bundling: Promise<Uint8Array> | undefined;

/** Bundles islands/main.tsx for the browser with the running deno. */
export function bundleIslands(): Promise<Uint8Array> {
  bundling ??= (async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--minify",
        "--config",
        fileURLToPath(here("../deno.json")),
        fileURLToPath(here("../islands/main.tsx")),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!out.success || out.stdout.length === 0) {
      const why = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" / ");
      throw new Error(`deno bundle failed: ${why || `exit ${out.code}`}`);
    }
    return out.stdout;
  })();
  bundling.catch(() => (bundling = undefined));
  return bundling;
}

/**
 * Loads the stylesheet. The islands are bundled on the first request (a node nobody
 * browses never runs the bundler); `log` hears if that fails.
 */
export async function loadAssets(log: (line: string) => void): Promise<Assets> {
  const style = await Deno.readFile(here("../static/style.css"));
  let script: Promise<Asset | undefined> | undefined;
  const files: Record<string, () => Asset | Promise<Asset | undefined>> = {
    "style.css": () => ({ body: style, type: "text/css; charset=utf-8" }),
    "icon.svg": () => ({ body: new TextEncoder().encode(ICON), type: "image/svg+xml" }),
    "islands.js": () =>
      script ??= bundleIslands().then(
        (body): Asset => ({ body, type: "text/javascript; charset=utf-8" }),
        (err) => {
          log(
            `admin: could not bundle the islands (${
              (err as Error).message
            }); pages work, but without live updates. The node needs --allow-run for ${Deno.execPath()}`,
          );
          return undefined;
        },
      ),
  };
  return {
    get: (path) => Promise.resolve(Object.hasOwn(files, path) ? files[path]!() : undefined),
    warm: () => void files["islands.js"]!(),
  };
}
