/** Command-line flags and the three run profiles (--quick for CI, default, --full). */

export type Profile = 'quick' | 'default' | 'full';

export interface BenchOptions {
  readonly profile: Profile;
  readonly repetitions: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  /** Idle gate: start a window once the machine is below this busy fraction, or after maxWaitMs. */
  readonly idleThreshold: number;
  readonly idleMaxWaitMs: number;
  /** Include mobilenetv2-12-int8 from ../shared/models. */
  readonly sharedModels: boolean;
  /** Use the node core load generator even if h2load/wrk are installed. */
  readonly nodeLoadgen: boolean;
  /** Only scenarios whose id contains this text. */
  readonly filter?: string;
  /** Request counts of the memory phase: [after first phase, after second phase] per model. */
  readonly memoryRequests: Readonly<Record<string, readonly [number, number]>>;
  /** Write bench/results/ (--quick and --filter runs never do). */
  readonly write: boolean;
}

export const USAGE = `usage: npm run bench [-- options]
  --quick           smoke run (~1 min): 1 repetition, 1 s windows, dummy + a small subset
  --full            2 repetitions, 5 s windows, every scenario, 10k/50k-request memory phase
  --reps N          repetitions (default: 1, --full: 2)
  --seconds S       measured seconds per window
  --shared-models   also bench mobilenetv2-12-int8 from ../shared/models
  --node-loadgen    use the node core load generator even when h2load/wrk exist
  --filter TEXT     only scenarios whose id contains TEXT
  --no-write        do not write bench/results/ (--quick and --filter runs never write)
  --help`;

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  const has = (f: string) => argv.includes(f);
  const value = (f: string) => {
    const i = argv.indexOf(f);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (has('--help') || has('-h')) return 'help';
  const known = new Set(['--quick', '--full', '--reps', '--seconds', '--shared-models', '--node-loadgen', '--filter', '--no-write']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    if (!known.has(a)) throw new Error(`unknown option ${a}\n${USAGE}`);
    if (a === '--reps' || a === '--seconds' || a === '--filter') i++;
  }
  const profile: Profile = has('--quick') ? 'quick' : has('--full') ? 'full' : 'default';
  const base = {
    quick: { repetitions: 1, warmupSeconds: 0.5, seconds: 1, idleMaxWaitMs: 1000, memory: { dummy: [2000, 10000] } },
    default: { repetitions: 1, warmupSeconds: 1, seconds: 3, idleMaxWaitMs: 3000, memory: { dummy: [10000, 50000], cnn: [300, 1500], big: [600, 1800] } },
    full: { repetitions: 2, warmupSeconds: 1, seconds: 5, idleMaxWaitMs: 10000, memory: { dummy: [10000, 50000], cnn: [2000, 10000], big: [500, 2500], mobilenet: [2000, 10000] } },
  }[profile];
  const reps = value('--reps');
  const seconds = value('--seconds');
  return {
    profile,
    repetitions: reps ? Math.max(1, Number(reps)) : base.repetitions,
    warmupSeconds: base.warmupSeconds,
    seconds: seconds ? Number(seconds) : base.seconds,
    idleThreshold: 0.15,
    idleMaxWaitMs: base.idleMaxWaitMs,
    sharedModels: has('--shared-models'),
    nodeLoadgen: has('--node-loadgen'),
    filter: value('--filter'),
    memoryRequests: base.memory as unknown as Record<string, [number, number]>,
    write: !has('--no-write'),
  };
}
