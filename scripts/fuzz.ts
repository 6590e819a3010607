/**
 * The longer fuzz run (issue 10 item 2): the fuzz tests (test/fuzz-*.test.ts) with many more
 * cases per property and a fresh seed per round, until the rounds or the minutes run out. Each
 * round prints its seed; a failing round prints the counterexample and the command replaying it.
 *
 *   npm run fuzz                                   # 1 round, 20× the CI case counts
 *   npm run fuzz -- --scale 50 --minutes 30        # rounds until 30 minutes have passed
 *   npm run fuzz -- --seed 12345 --scale 20        # replay one seed
 *
 * Exit code 1 when a round failed.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const testDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test');

function parseArgs(argv: readonly string[]): { scale: number; rounds: number; minutes: number | undefined; seed: number | undefined; only: string | undefined } {
  const out = { scale: 20, rounds: 1, minutes: undefined as number | undefined, seed: undefined as number | undefined, only: undefined as string | undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => argv[++i] ?? '';
    if (a === '--scale') out.scale = Number(value());
    else if (a === '--rounds') out.rounds = Number(value());
    else if (a === '--minutes') out.minutes = Number(value());
    else if (a === '--seed') out.seed = Number(value());
    else if (a === '--only') out.only = value();
    else if (a === '--help') {
      console.log('usage: npm run fuzz -- [--scale N] [--rounds N | --minutes M] [--seed S] [--only codecs|grpc|rest]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!(out.scale > 0) || !(out.rounds > 0)) throw new Error('--scale and --rounds must be positive');
  return out;
}

const args = parseArgs(process.argv.slice(2));
const files = readdirSync(testDir)
  .filter((f) => /^fuzz-.*\.test\.js$/.test(f) && (args.only === undefined || f.includes(args.only)))
  .map((f) => path.join(testDir, f));
const until = args.minutes === undefined ? undefined : Date.now() + args.minutes * 60_000;
let round = 0;
let failed = false;
while (until !== undefined ? Date.now() < until : round < args.rounds) {
  round++;
  const seed = args.seed ?? Math.floor(Math.random() * 0x7fffffff);
  console.log(`fuzz round ${round}: TSMS_FUZZ_SEED=${seed} TSMS_FUZZ_SCALE=${args.scale} (${files.map((f) => path.basename(f)).join(', ')})`);
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
    stdio: 'inherit',
    env: { ...process.env, TSMS_FUZZ_SEED: String(seed), TSMS_FUZZ_SCALE: String(args.scale) },
  });
  if (r.status !== 0) {
    failed = true;
    console.log(`round ${round} FAILED; replay with: TSMS_FUZZ_SEED=${seed} TSMS_FUZZ_SCALE=${args.scale} node --test ${files.join(' ')}`);
    break;
  }
  if (args.seed !== undefined) break;
}
process.exit(failed ? 1 : 0);
