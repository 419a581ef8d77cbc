/**
 * UPnP-IGD (v2, WANIPConnection:2) through @achingbrain/nat-port-mapper 4.0.5:
 * the library finds the gateway (SSDP) and speaks SOAP to it; the mapping
 * calls go through its lower-level `Device.run` rather than its `map`/`unmap`,
 * because those cannot do what a node needs:
 * - `unmap` sends DeletePortMapping with an empty protocol, which routers read
 *   as TCP, so the UDP (QUIC) mapping stayed after a clean stop;
 * - `map` asks for a lease of at least an hour and renews on its own timer,
 *   so neither the lease nor its renewal could be chosen or observed.
 *
 * The library is imported only when mapping is on: its logger reads many
 * environment variables when loaded, which a node run with a narrow
 * `--allow-env` must ignore (`--ignore-env` in deno.json's tasks) or, failing
 * that, lose only the mapping, not start-up.
 */
import type { Gateway } from "@achingbrain/nat-port-mapper";
import type { Protocol } from "./nat_pmp.ts";

const WAN_IP_CONNECTION_2 = "urn:schemas-upnp-org:service:WANIPConnection:2";

/** The part of the library's (unexported) Device class used here. */
interface SoapDevice {
  run(
    service: string,
    action: string,
    args: [string, string | number][],
    options: { signal: AbortSignal },
  ): Promise<Record<string, unknown>>;
  close(): void;
}

export class UpnpGateway {
  readonly host: string;
  readonly #gateway: Gateway;
  readonly #description: string;

  private constructor(gateway: Gateway, description: string) {
    this.#gateway = gateway;
    this.host = gateway.host;
    this.#description = description;
  }

  /** The first IPv4 IGD that answers the SSDP search before `signal` ends, or undefined. */
  static async find(description: string, signal: AbortSignal): Promise<UpnpGateway | undefined> {
    const { upnpNat } = await import("@achingbrain/nat-port-mapper");
    const client = upnpNat({ description, autoRefresh: false });
    try {
      for await (const gw of client.findGateways({ signal })) {
        if (gw.family === "IPv4") return new UpnpGateway(gw, description);
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
    return undefined;
  }

  externalIp(signal: AbortSignal): Promise<string> {
    return this.#gateway.externalIp({ signal });
  }

  /**
   * Maps (or renews: the same request again) `internalHost:internalPort`.
   * AddAnyPortMapping lets the router pick another external port when the
   * asked one is taken; the granted one is returned.
   */
  async map(
    protocol: Protocol,
    internalHost: string,
    internalPort: number,
    externalPort: number,
    leaseS: number,
    signal: AbortSignal,
  ): Promise<{ externalPort: number; lifetimeS: number }> {
    const device = await this.#device(signal);
    const body = await device.run(WAN_IP_CONNECTION_2, "AddAnyPortMapping", [
      ["NewRemoteHost", ""],
      ["NewExternalPort", externalPort],
      ["NewProtocol", protocol.toUpperCase()],
      ["NewInternalPort", internalPort],
      ["NewInternalClient", internalHost],
      ["NewEnabled", 1],
      ["NewPortMappingDescription", this.#description],
      // 0 would mean "as long as the router likes" (a week in IGDv2).
      ["NewLeaseDuration", Math.max(1, leaseS)],
    ], { signal });
    const granted = Number(field(body, "AddAnyPortMappingResponse", "NewReservedPort"));
    if (!Number.isInteger(granted) || granted < 1 || granted > 65535) {
      throw new Error("UPnP-IGD gateway gave no external port");
    }
    return { externalPort: granted, lifetimeS: leaseS };
  }

  async unmap(protocol: Protocol, externalPort: number, signal: AbortSignal): Promise<void> {
    const device = await this.#device(signal);
    await device.run(WAN_IP_CONNECTION_2, "DeletePortMapping", [
      ["NewRemoteHost", ""],
      ["NewExternalPort", externalPort],
      ["NewProtocol", protocol.toUpperCase()],
    ], { signal });
  }

  close(): void {
    // stop() unmaps what the library's own map() made (nothing here) and ends its requests.
    this.#gateway.stop().catch(() => {});
  }

  #device(signal: AbortSignal): Promise<SoapDevice> {
    // getGateway is protected in the library's types: it re-finds the device when its SSDP entry expired.
    return (this.#gateway as unknown as {
      getGateway(o: { signal: AbortSignal }): Promise<SoapDevice>;
    }).getGateway({ signal });
  }
}

/** `response["u:Action"].Field` whatever the namespace prefix. */
function field(body: Record<string, unknown>, element: string, name: string): unknown {
  for (const [k, v] of Object.entries(body)) {
    if (k === element || k.endsWith(`:${element}`)) {
      return (v as Record<string, unknown> | undefined)?.[name];
    }
  }
  return undefined;
}
