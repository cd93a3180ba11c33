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
