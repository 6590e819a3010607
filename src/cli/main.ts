#!/usr/bin/env node
/** The `tsms` command: OVMS's command line, same flags, messages and exit codes (SPEC §1). */
import { parseCommandLine, UsageError } from './args.js';
import { tuneHeapGrowth, tunePretenuring, type HeapGrowthChoice } from '../core/heap-tuning.js';
import { startGcPacing } from '../core/gc-pacing.js';

/** EX_USAGE, as OVMS exits on a bad command line. */
const EXIT_USAGE = 64;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (parsed.action !== 'serve') {
    process.stdout.write(parsed.text);
    return 0;
  }
  // First, before the server modules load: V8 sets the old generation's next limit at every full
  // GC, and one during that loading would keep V8's default growth until the next (heap-tuning.ts).
  let heap: HeapGrowthChoice;
  try {
    heap = tuneHeapGrowth();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  const pretenuring = tunePretenuring();
  // Loaded only to serve, so --help and usage errors never pay for (or depend on) the server modules.
  const [{ createLogger }, { startTsms }] = await Promise.all([import('../core/logger.js'), import('../server.js')]);
  const config = parsed.config;
  const logger = createLogger(config.logLevel, config.logPath);
  for (const warning of parsed.warnings ?? []) logger.warn(warning);
  logger.debug({ heapGrowingPercent: heap.percent, decidedBy: heap.decidedBy, paced: heap.paced }, 'V8 heap growth');
  logger.debug({ pretenuring: pretenuring.pretenuring, decidedBy: pretenuring.decidedBy }, 'V8 allocation-site pretenuring');
  if (heap.paced) startGcPacing(undefined, (softTrigger) => logger.debug({ softTrigger }, 'GC pacing step'));
  // A custom node library may start a promise it never awaits; its rejection must not end the
  // server (Node's default), which serves every other request fine: log it and keep serving.
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error({ err: reason }, 'Unhandled promise rejection (ignored, the server keeps serving)');
  });
  let server: Awaited<ReturnType<typeof startTsms>>;
  try {
    server = await startTsms(config, logger);
  } catch (err) {
    logger.error({ err }, `Server failed to start: ${(err as Error).message}`);
    logger.flush();
    return 1;
  }
  return new Promise<number>((resolve) => {
    const onSignal = (signal: string) => {
      logger.info(`Received ${signal}`);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      server.shutdown().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'Error during shutdown');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Pending timers (pollers, keep-alive sockets) must not keep a finished server alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
