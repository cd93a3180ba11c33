export { ConfigError, parseConfigFile, parseListen, resolveConfig, settingsFromEnv } from "./load.js";
export { DEFAULTS, ENV, type LogLevel, type RawSettings, type ServerConfig } from "./types.js";
