export { unionAuthenticator, type AuthResult, type Authenticator } from "./authenticator.js";
export { ADMIN_GROUP, basicAuthenticator } from "./local-users.js";
export { bootstrapAdmin } from "./bootstrap.js";
export { hashPassword, verifyPassword } from "./passwords.js";
export {
  ACCESS_KEY_KIND,
  accessKeyAuthenticator,
  issueKey,
  parseKeyToken,
  type AccessKeySpec,
} from "./access-keys.js";
export { dummyHash } from "./passwords.js";
export {
  createIssuer,
  issuerOptions,
  ISSUER_DEFAULTS,
  DISCOVERY_PATH,
  JWKS_PATH,
  type Issuer,
  type IssuerOptions,
} from "./issuer/index.js";
export { RefreshError, type RefreshErrorCode, type TokenSet } from "./sessions.js";
export { LoginThrottle, RateLimit, THROTTLE_DEFAULTS, type ThrottleOptions } from "./throttle.js";
export {
  DeviceGrants,
  DEVICE_DEFAULTS,
  DEVICE_GRANT_TYPE,
  formatUserCode,
  normaliseUserCode,
  type DeviceOptions,
} from "./device.js";
export {
  AuthorizationCodes,
  AUTH_CODE_GRANT_TYPE,
  CLI_CLIENT_ID,
  isLoopbackRedirect,
  pkceChallenge,
} from "./authcode.js";
