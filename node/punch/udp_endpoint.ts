/** What a coordinator's word may make a node do: only send QUIC to a literal ip:port. */
import { RojError } from "../errors.ts";
import { type Endpoint, unmapEndpoint } from "../transport/mod.ts";

/**
 * A literal IPv4 or IPv6 endpoint: a peer's word never makes us resolve a
 * name. An IPv4-mapped IPv6 one is returned as plain IPv4.
 * @throws {RojError} bad_input for anything else
 */
export function parseUdpEndpoint(text: string): Endpoint {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text) ??
    /^\[([0-9a-fA-F:.]{2,45})\]:(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  const octets = m && !m[1]!.includes(":") ? m[1]!.split(".").map(Number) : [];
  if (!m || port < 1 || port > 65535 || octets.some((o) => o > 255)) {
    throw new RojError("bad_input", `${JSON.stringify(text.slice(0, 64))} is not an ip:port`);
  }
  return unmapEndpoint({ host: m[1]!, port });
}

/** The host part of a session's "host:port" or "[v6]:port" (the text itself if it has none). */
export function hostOf(remote: string): string {
  const m = /^\[(.+)\]:\d+$/.exec(remote) ?? /^(.+):\d+$/.exec(remote);
  return m ? m[1]! : remote;
}
