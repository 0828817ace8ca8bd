export { loadConfig, ConfigError, DEFAULT_CONFIG_FILE, demoSettings, formatPath } from './load.js';
export type { LoadOptions } from './load.js';
export type { RelaygateConfig } from './schema.js';
export { parseDuration, parseHostPort, parseSize } from './units.js';
