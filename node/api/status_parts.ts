/** Parts of what `roj status` and the admin show (api.ts: StatusView): port mapping, catch-ups. */

/**
 * A port mapping: "off" (with why: --no-upnp, loopback listener, --advertise),
 * "searching" for a gateway, "mapped", or "none" (no gateway mapped it; why).
 */
export interface PortMapView {
  readonly state: "off" | "searching" | "mapped" | "none";
  readonly method?: "upnp" | "nat-pmp";
  /** The router's LAN address. */
  readonly gateway?: string;
  /** The address peers outside dial, "ip:port". */
  readonly external?: string;
  /** Where the router forwards it, "ip:port". */
  readonly internal?: string;
  /** What is mapped: "tcp", and "udp" for QUIC. */
  readonly protocols?: readonly ("tcp" | "udp")[];
  /** The lease the router granted, in seconds; renewed at half of it. */
  readonly leaseSeconds?: number;
  /** ms since the epoch when the router last granted or renewed the mapping. */
  readonly renewedAt?: number;
  /** Why there is no mapping, or why the last renewal failed. */
  readonly reason?: string;
}

/** A chat taking in many entries from one peer or anchor: done of total. */
export interface CatchUpView {
  readonly chat: string;
  /** The contact or anchor it comes from. */
  readonly from: string;
  readonly done: number;
  readonly total: number;
}
