/**
 * The data folder: where a node keeps its key, its store and its socket.
 *
 *   --data DIR  >  $ROJ_HOME  >  $XDG_DATA_HOME/roj  >  ~/.local/share/roj
 */
import { RojError } from "../errors.ts";

export interface DataDirEnv {
  get(name: string): string | undefined;
}

/**
 * Resolves the data folder from a flag and the environment.
 * @throws {RojError} bad_input when no rule yields a folder (no HOME either).
 */
export function resolveDataDir(flag: string | undefined, env: DataDirEnv = Deno.env): string {
  const pick = flag || env.get("ROJ_HOME") ||
    (env.get("XDG_DATA_HOME") ? `${env.get("XDG_DATA_HOME")}/roj` : undefined) ||
    (env.get("HOME") ? `${env.get("HOME")}/.local/share/roj` : undefined);
  if (!pick) throw new RojError("bad_input", "no data folder: pass --data DIR or set ROJ_HOME");
  return pick.replace(/\/+$/, "") || "/";
}

/** The files of a data folder. */
export function dataPaths(dir: string) {
  return {
    dir,
    key: `${dir}/id_ed25519`,
    publicKey: `${dir}/id_ed25519.pub`,
    store: `${dir}/roj.kv`,
    socket: `${dir}/roj.sock`,
  } as const;
}

export type DataPaths = ReturnType<typeof dataPaths>;
