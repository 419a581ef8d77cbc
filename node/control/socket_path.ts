/** Where a data folder's control socket lives, and the Unix limit on its length. */
import { RojError } from "../errors.ts";
import { dataPaths } from "../home/mod.ts";

/** sun_path holds 108 bytes on Linux (104 on macOS), the terminating NUL included. */
export const MAX_SOCKET_PATH = 103;

/** The control socket of a data folder: `<dir>/roj.sock`. */
export function controlSocketPath(dataDir: string): string {
  return dataPaths(dataDir).socket;
}

/**
 * Checks that a socket path fits in a Unix socket address.
 * @throws {RojError} bad_input naming the length, when it does not.
 */
export function checkSocketPath(path: string): void {
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_SOCKET_PATH) {
    throw new RojError(
      "bad_input",
      `the control socket path ${path} is ${bytes} bytes, longer than the ${MAX_SOCKET_PATH} a Unix socket allows; use a shorter --data folder`,
    );
  }
}

/** The folder holding a socket path, for messages. */
export function socketDir(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}
