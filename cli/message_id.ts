/** Message ids as a person types them (`roj edit`, `delete`, `react`, `send --reply`). */
import { RojError } from "../node/mod.ts";

/** A message id as typed: hex, 4 to 64 digits (a leading "#" is allowed). */
export function parseMessageId(raw: string): string {
  const id = raw.trim().replace(/^#/, "").toLowerCase();
  if (!/^[0-9a-f]{4,64}$/.test(id)) {
    throw new RojError(
      "bad_input",
      `${JSON.stringify(raw.slice(0, 70))} is no message id: give the id \`roj read\` shows`,
    );
  }
  return id;
}
