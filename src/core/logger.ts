import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/types.js';

const pinoLevels: Record<LogLevel, string> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  ERROR: 'error',
};

/** JSON lines on stdout, and also to `logPath` when given (OVMS --log_path adds a file, it does not replace stdout). */
export function createLogger(level: LogLevel, logPath?: string): Logger {
  const lvl = pinoLevels[level];
  if (!logPath) return pino({ level: lvl, base: { pid: process.pid } });
  const streams = pino.multistream([
    { level: lvl as pino.Level, stream: pino.destination({ fd: 1, sync: false }) },
    { level: lvl as pino.Level, stream: pino.destination({ dest: logPath, mkdir: true, sync: false }) },
  ]);
  return pino({ level: lvl, base: { pid: process.pid } }, streams);
}

export type { Logger };
