/**
 * Devices: a person's ed25519 key certifies one key per device (OpenSSH
 * certificates), revokes them, and links new ones with a one-time code. The
 * pure parts: certificates, revocations, link codes and the device book.
 *
 * @module
 */
export {
  certifyDevice,
  checkDeviceCertificate,
  checkDeviceName,
  defaultValidity,
  DEVICE_CERTIFICATE_DAYS,
  type DeviceCertificateProblem,
  type DeviceCertificateRequest,
  RENEWAL_DUE_DAYS,
  renewalDueAt,
} from "./device_certificate.ts";
export {
  type DeviceRevocation,
  MAX_REVOCATION_BYTES,
  MAX_REVOCATION_REASON,
  parseRevocation,
  signRevocation,
} from "./revocation.ts";
export { helloCertificate } from "./hello_certificate.ts";
export {
  createLinkCode,
  LINK_CODE_MINUTES,
  LINK_SECRET_BYTES,
  type LinkCode,
  MAX_LINK_CODE_ADDRESSES,
  MAX_LINK_CODE_TEXT,
  parseLinkCode,
} from "./link_code.ts";
export {
  addCertificate,
  addRevocation,
  type DeviceBook,
  type DeviceRecord,
  type DeviceRow,
  deviceRows,
  type DeviceStanding,
  deviceStanding,
  emptyDeviceBook,
  MAX_DEVICE_RECORDS,
  MAX_DEVICES_PER_PERSON,
  speaksForPerson,
} from "./device_book.ts";
export {
  certificateDueAt,
  isRenewalOf,
  planRenewals,
  RENEWAL_CHECK_MS,
  type RenewalCandidate,
  type RenewalPlan,
  renewedValidity,
} from "./renewal.ts";
