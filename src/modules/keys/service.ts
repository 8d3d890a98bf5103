// The keys domain's public face: what other modules and the transports call.
export {
  generateApiKey,
  generateSecureApiKey,
  generateKeyOfKind,
  type GenerateKeyInput,
  type GeneratedKey,
  type KeyKind,
} from "./generate.ts";
export { administersKeys, keyScope } from "./policy.ts";
export { countKeys, findKey, findKeys } from "./queries.ts";
export type { KeyListFilter } from "./queries.ts";
export { disableKey, enableKey, revokeKey } from "./status.ts";
export { rotateKey } from "./rotate.ts";
export { updateKey, type UpdateKeyInput } from "./update.ts";
