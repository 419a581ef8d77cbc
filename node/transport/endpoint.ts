/** "host:port" addresses as people type them and peers publish them: host names, IPv4, [IPv6]. */
import { RojError } from "../errors.ts";
import { parseIp } from "../ip/mod.ts";

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export function formatEndpoint(e: Endpoint): string {
  return e.host.includes(":") ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** Parses "host:port" or "[v6]:port". @throws {RojError} bad_input */
export function parseEndpoint(text: string, defaultPort?: number): Endpoint {
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text) ??
    /^([^:\[\]\s]+)(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[2] !== undefined ? Number(m[2]) : defaultPort;
  // Brackets hold an IPv6 literal, and all digits and dots an IPv4 one: "1.2.3." is neither.
  const literal = !m
    ? undefined
    : text.startsWith("[")
    ? 6
    : /^[\d.]+$/.test(m[1]!)
    ? 4
    : undefined;
  const badLiteral = literal !== undefined && parseIp(m![1]!)?.family !== literal;
  if (!m || badLiteral || port === undefined || port < 1 || port > 65535 || text.length > 300) {
    throw new RojError(
      "bad_input",
      `${JSON.stringify(text.slice(0, 80))} is not a host:port address`,
    );
  }
  return { host: m[1]!, port };
}
