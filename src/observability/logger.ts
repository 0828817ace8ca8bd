import { pino, type Logger } from 'pino';

/** The level-and-message logging the services take; a pino logger behind it in `serve`. */
export type LogFn = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/**
 * `relaygate serve`'s log: one JSON object a line on stderr (pino), so operators can ship it to
 * any collector; synchronous writes keep the last lines when the process is stopped. LOG_LEVEL
 * (`debug`, `info`, `warn`, `error`) sets the threshold.
 */
export function createLogger(env: NodeJS.ProcessEnv = process.env): { logger: Logger; log: LogFn } {
  const logger = pino({ level: env.LOG_LEVEL ?? 'info', base: { service: 'relaygate' } }, pino.destination({ fd: 2, sync: true }));
  const log: LogFn = (level, message, fields) => (fields ? logger[level](fields, message) : logger[level](message));
  return { logger, log };
}
