/** The local API's device methods (node/linking), for the handlers table. */
import type { LinkService } from "../linking/mod.ts";
import { RojError } from "../errors.ts";
import type { Handlers } from "./handlers.ts";

type DeviceMethods = "device.link" | "devices" | "device.remove" | "device.renew";

export function devicesHandlers(
  linking: LinkService,
  passive: boolean,
): Pick<Handlers, DeviceMethods> {
  return {
    "device.link": (p) => {
      if (passive) {
        throw new RojError("refused", "this node is a passive anchor: it links no devices");
      }
      return linking.link(p.personKey);
    },
    devices: () => linking.devices(),
    "device.remove": (p) => linking.remove(p.name, p.personKey),
    "device.renew": (p) => linking.renewNow(p.personKey),
  };
}
