/** Structured JSON logs: every line carries its context (controller, name, namespace). */
import winston from 'winston';

export type Logger = winston.Logger;

const levels = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof levels)[number];
export const isLogLevel = (v: string): v is LogLevel => (levels as readonly string[]).includes(v);

export const rootLogger: Logger = winston.createLogger({
  level: process.env.LOG_LEVEL && isLogLevel(process.env.LOG_LEVEL) ? process.env.LOG_LEVEL : 'info',
  format: winston.format.combine(
    winston.format.timestamp(),
    winston.format.errors({ stack: false }),
    winston.format.json(),
  ),
  transports: [new winston.transports.Console({ stderrLevels: [] })],
});

export function setLogLevel(level: LogLevel): void {
  rootLogger.level = level;
}

/** The message of an unknown thrown value, for logs, events and conditions. */
export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
