import { Logger } from '@aws-lambda-powertools/logger';

/** The part of a logger the shared code needs; Powertools' Logger satisfies it, and so does a test spy. */
export interface Log {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export const SERVICE_NAME = 'wachap-notifications';

/** One logger per function, created once at module scope. Phone numbers are masked by the callers. */
export function createLogger(functionName: string): Logger {
  return new Logger({ serviceName: SERVICE_NAME, persistentKeys: { function: functionName } });
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
