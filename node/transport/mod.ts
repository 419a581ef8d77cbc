export {
  bindFallingBackToIPv4,
  isIPv6,
  isIPv6Address,
  isNoIPv6Error,
  MAX_PUBLISHED_IPV6,
  parseIpEndpoint,
  publishableAddresses,
  publishableInterfaceAddress,
  unmapAddress,
  unmapEndpoint,
  unmapIPv4,
} from "./addresses.ts";
export { closingWith, type MemoryPipeOptions, memoryPipePair, type Pipe } from "./pipe.ts";
export { MemoryNetwork, type MemoryNetworkOptions, type MemoryNetworkStats } from "./memory.ts";
export type {
  DialSpec,
  InboundPipe,
  ListenSpec,
  OutboundPipe,
  Transport,
  TransportListener,
} from "./transport.ts";
export { sshTransport } from "./ssh_transport.ts";
export {
  type DialOptions,
  dialSsh,
  type Endpoint,
  formatEndpoint,
  type InboundPeer,
  type ListenOptions,
  listenSsh,
  parseEndpoint,
  ROJ_SUBSYSTEM,
  type SshClient,
  type SshServer,
} from "./ssh.ts";
export { type SftpChat, type SftpFile, type SftpView } from "./sftp_view.ts";
export {
  ALPN_PROBE,
  ALPN_SSH,
  dialQuicSocket,
  makeQuicCert,
  openQuicService,
  type QuicCert,
  type QuicService,
  type QuicServiceOptions,
  quicStreamSocket,
  type SocketLike,
} from "./quic.ts";
