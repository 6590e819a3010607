/**
 * The OVMS command line (SPEC §1): the real CLI process for every usage error of §1.3 (exact stderr,
 * exit 64), help and version; then parseCommandLine in-process for defaults and value parsing.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './helpers/server.js';
import { parseCommandLine, UsageError, isValidBindAddress, type ParsedCommandLine } from '../src/cli/args.js';
import type { ServerConfig } from '../src/config/types.js';

const EX_USAGE = 64;
const cores = availableParallelism();

describe('tsms command line: usage errors exit 64 with OVMS messages', () => {
  const cases: readonly { readonly args: readonly string[]; readonly stderr: string }[] = [
    { args: ['--config_path', '/c.json', '--foo', '1'], stderr: 'error parsing options: Option ‘foo’ does not exist' },
    { args: ['--port', 'abc', '--config_path', '/c.json'], stderr: 'error parsing options: Argument ‘abc’ failed to parse' },
    { args: ['--port', '-1', '--config_path', '/c.json'], stderr: 'error parsing options: Argument ‘-1’ failed to parse' },
    { args: ['--config_path'], stderr: 'error parsing options: Option ‘config_path’ is missing an argument' },
    { args: ['--config_path', '/c.json', '--stateful=maybe'], stderr: 'error parsing options: Argument ‘maybe’ failed to parse' },
    { args: ['--config_path', '/c.json', '--model_name', 'm'], stderr: 'Use either config_path or model_path with model_name' },
    { args: ['--config_path', '/c.json', '--model_path', '/m'], stderr: 'Use either config_path or model_path with model_name' },
    { args: ['--model_name', 'm'], stderr: 'Use config_path or model_path with model_name' },
    { args: ['--model_path', '/m'], stderr: 'Use config_path or model_path with model_name' },
    { args: ['--port', '9000'], stderr: 'Use config_path or model_path with model_name' },
    { args: ['--config_path', '/c.json', '--nireq', '2'], stderr: 'Model parameters in CLI are exclusive with the config file' },
    { args: ['--config_path', '/c.json', '--grpc_workers', '10000'], stderr: `grpc_workers count should be from 1 to CPU core count : ${cores}` },
    { args: ['--config_path', '/c.json', '--grpc_workers', '0'], stderr: `grpc_workers count should be from 1 to CPU core count : ${cores}` },
    { args: ['--config_path', '/c.json', '--rest_port', '8080', '--rest_workers', '10001'], stderr: 'rest_workers count should be from 2 to 10000' },
    { args: ['--config_path', '/c.json', '--rest_port', '8080', '--rest_workers', '1'], stderr: 'rest_workers count should be from 2 to 10000' },
    {
      args: ['--config_path', '/c.json', '--port', '8080', '--rest_workers', '60'],
      stderr: 'rest_workers is set but rest_port is not set. rest_port is required to start rest servers',
    },
    { args: ['--config_path', '/c.json', '--port', '65536'], stderr: 'port number out of range from 0 to 65535' },
    { args: ['--config_path', '/c.json', '--rest_port', '65536'], stderr: 'rest_port number out of range from 0 to 65535' },
    { args: ['--config_path', '/c.json', '--rest_port', '0xffffffffffffffff'], stderr: 'rest_port number out of range from 0 to 65535' },
    { args: ['--config_path', '/c.json', '--metrics_enable'], stderr: 'rest_port setting is missing, metrics are enabled on rest port' },
    {
      args: ['--config_path', '/c.json', '--rest_port', '8081', '--metrics_list', 'ovms_requests_success'],
      stderr: 'metrics_enable setting is missing, required when metrics_list is provided',
    },
    {
      args: ['--config_path', '/c.json', '--rest_port', '8081', '--port', '8080', '--rest_bind_address', '192.0.2'],
      stderr: 'rest_bind_address has invalid format: proper hostname or IP address expected.',
    },
    {
      args: ['--config_path', '/c.json', '--port', '8080', '--grpc_bind_address', '192.0.2'],
      stderr: 'grpc_bind_address has invalid format: proper hostname or IP address expected.',
    },
    { args: ['--config_path', '/c.json', '--port', '8080', '--rest_port', '8080'], stderr: 'port and rest_port cannot have the same values' },
    {
      args: ['--config_path', '/c.json', '--cpu_extension', '/no/such/libext.so'],
      stderr: 'File path provided as an --cpu_extension parameter does not exists in the filesystem: /no/such/libext.so',
    },
    { args: ['--config_path', '/c.json', '--log_level', 'VERBOSE'], stderr: 'log_level should be one of: TRACE, DEBUG, INFO, WARNING, ERROR' },
    {
      args: ['--model_name', 'm', '--model_path', '/m', '--max_sequence_number', '10'],
      stderr: 'Setting low_latency_transformation, max_sequence_number and idle_sequence_cleanup require setting stateful flag for the model.',
    },
    {
      args: ['--model_name', 'm', '--model_path', '/m', '--model_version_policy', '{"newest": {}}'],
      stderr: 'Invalid --model_version_policy: Model version policy contains unsupported key - "newest"; expected "all", "latest" or "specific"',
    },
    {
      args: ['--model_name', 'm', '--model_path', '/m', '--shape', '(1,3,a)'],
      stderr: 'Invalid --shape: The provided shape is in wrong format - "(1,3,a)": expected "auto" or a tuple of non-negative integers like "(1,3,224,224)"',
    },
  ];
  for (const { args, stderr } of cases) {
    it(`${args.join(' ')} → ${stderr}`, async () => {
      const result = await runCli(args);
      assert.equal(result.stderr, `${stderr}\n`);
      assert.equal(result.stdout, '');
      assert.equal(result.code, EX_USAGE);
    });
  }
});

describe('tsms command line: help and version', () => {
  for (const args of [[], ['--help'], ['-h'], ['--config_path', '/c.json', '--help']]) {
    it(`[${args.join(' ')}] prints the grouped help and exits 0`, async () => {
      const { code, stdout, stderr } = await runCli(args);
      assert.equal(code, 0);
      assert.equal(stderr, '');
      assert.match(stdout, /^Usage:\n {2}tsms \[OPTION\.\.\.\]$/m);
      const multi = stdout.indexOf(' multi model options:');
      const single = stdout.indexOf(' single model options:');
      assert.ok(stdout.indexOf('--port PORT') < multi && multi < stdout.indexOf('--config_path CONFIG_PATH'));
      assert.ok(single > multi && stdout.indexOf('--model_name MODEL_NAME') > single);
      for (const flag of ['--rest_port', '--grpc_workers', '--file_system_poll_wait_seconds', '--metrics_enable', '--cache_dir',
        '--batch_size', '--shape', '--layout', '--model_version_policy', '--nireq', '--target_device', '--plugin_config',
        '--stateful', '--idle_sequence_cleanup', '--low_latency_transformation', '--max_sequence_number']) {
        assert.ok(stdout.includes(flag), `help mentions ${flag}`);
      }
      assert.match(stdout, /--port PORT +gRPC server port \(default: 9178\)/);
    });
  }

  it('--version prints the tsms and onnxruntime-node versions and exits 0', async () => {
    const { code, stdout } = await runCli(['--version']);
    assert.equal(code, 0);
    assert.match(stdout, /^tsms 0\.1\.0\nonnxruntime-node backend \d+\.\d+\.\d+\n$/);
  });

  it('--version wins over --help, as in OVMS', async () => {
    const { code, stdout } = await runCli(['--help', '--version']);
    assert.equal(code, 0);
    assert.match(stdout, /^tsms /);
  });
});

// ---------------------------------------------------------------------------------------------

function serve(argv: readonly string[]): ServerConfig {
  const parsed: ParsedCommandLine = parseCommandLine(argv);
  assert.equal(parsed.action, 'serve');
  return (parsed as Extract<ParsedCommandLine, { action: 'serve' }>).config;
}

function usage(argv: readonly string[]): string {
  try {
    parseCommandLine(argv);
  } catch (err) {
    assert.ok(err instanceof UsageError, `UsageError expected, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`no usage error for ${argv.join(' ')}`);
}

const single = ['--model_name', 'resnet', '--model_path', '/models/resnet'];

describe('parseCommandLine: defaults', () => {
  it('single-model mode gets OVMS defaults', () => {
    const c = serve(single);
    assert.equal(c.port, 9178);
    assert.equal(c.restPort, 0);
    assert.equal(c.grpcBindAddress, '0.0.0.0');
    assert.equal(c.restBindAddress, '0.0.0.0');
    assert.equal(c.grpcWorkers, 1);
    assert.equal(c.restWorkers, 4 * cores);
    assert.equal(c.logLevel, 'INFO');
    assert.equal(c.logPath, undefined);
    assert.equal(c.filePollWaitSeconds, 1);
    assert.equal(c.sequenceCleanerPollWaitMinutes, 5);
    assert.equal(c.metricsEnable, false);
    assert.equal(c.metricsList, undefined);
    assert.equal(c.configPath, undefined);
    assert.deepEqual(c.model, {
      name: 'resnet', basePath: '/models/resnet', versionPolicy: { kind: 'latest', numVersions: 1 },
      nireq: 0, targetDevice: 'CPU', pluginConfig: {}, stateful: false,
    });
  });

  it('config mode: no model, configPath made absolute', () => {
    const c = serve(['--config_path', 'models/config.json', '--port', '9000', '--rest_port', '8000']);
    assert.equal(c.model, undefined);
    assert.equal(c.configPath, path.resolve('models/config.json'));
    assert.equal(c.port, 9000);
    assert.equal(c.restPort, 8000);
  });

  it('layout and stateful flags are silently ignored in config mode (as OVMS 2021.4)', () => {
    const c = serve(['--config_path', '/c.json', '--layout', 'NHWC', '--stateful']);
    assert.equal(c.model, undefined);
  });
});

describe('parseCommandLine: option syntax', () => {
  it('accepts --name=value and --name value alike', () => {
    const a = serve([...single, '--port=9001', '--rest_port=8001', '--log_level=DEBUG', '--log_path=/tmp/x.log']);
    const b = serve([...single, '--port', '9001', '--rest_port', '8001', '--log_level', 'DEBUG', '--log_path', '/tmp/x.log']);
    assert.deepEqual(a, b);
    assert.equal(a.port, 9001);
    assert.equal(a.logLevel, 'DEBUG');
    assert.equal(a.logPath, '/tmp/x.log');
  });

  it('booleans: bare flag, =true/=false and cxxopts spellings', () => {
    assert.equal(serve([...single, '--stateful']).model?.stateful, true);
    assert.equal(serve([...single, '--stateful=false']).model?.stateful, false);
    assert.equal(serve([...single, '--stateful=1']).model?.stateful, true);
    assert.equal(serve([...single, '--stateful=F']).model?.stateful, false);
    assert.equal(serve([...single, '--stateful=True']).model?.stateful, true);
    assert.equal(usage([...single, '--stateful=yes']), 'error parsing options: Argument ‘yes’ failed to parse');
  });

  it('a bool option does not take the next word as its value', () => {
    assert.equal(usage([...single, '--stateful', 'false']), 'error parsing options: Unexpected positional argument ‘false’');
  });

  it('unsigned integers: decimal and 0x hex; sign, junk and overflow fail to parse', () => {
    assert.equal(serve(['--config_path', '/c', '--port', '0x2328']).port, 9000);
    assert.equal(usage(['--config_path', '/c', '--port', '+5']), 'error parsing options: Argument ‘+5’ failed to parse');
    assert.equal(usage(['--config_path', '/c', '--port', '12ab']), 'error parsing options: Argument ‘12ab’ failed to parse');
    assert.equal(usage(['--config_path', '/c', '--port=']), 'error parsing options: Argument ‘’ failed to parse');
    assert.equal(usage([...single, '--nireq', '4294967296']), 'error parsing options: Argument ‘4294967296’ failed to parse');
    assert.equal(usage(['--config_path', '/c', '--port', '0x10000000000000000']), 'error parsing options: Argument ‘0x10000000000000000’ failed to parse');
    assert.equal(usage(['--config_path', '/c', '--port', '18446744073709551615']), 'port number out of range from 0 to 65535');
  });

  it('the last occurrence of an option wins', () => {
    assert.equal(serve([...single, '--port', '1', '--port', '2']).port, 2);
  });

  it('unknown short options are reported by letter', () => {
    assert.equal(usage(['-x']), 'error parsing options: Option ‘x’ does not exist');
  });

  it('parse errors come before help (cxxopts parses first)', () => {
    assert.equal(usage(['--help', '--bogus']), 'error parsing options: Option ‘bogus’ does not exist');
  });
});

describe('parseCommandLine: validation order and rules', () => {
  it('each model parameter is exclusive with --config_path', () => {
    for (const [flag, value] of [['batch_size', '1'], ['shape', 'auto'], ['nireq', '1'], ['model_version_policy', '{"all":{}}'],
      ['target_device', 'CPU'], ['plugin_config', '{}']] as const) {
      assert.equal(usage(['--config_path', '/c', `--${flag}`, value]), 'Model parameters in CLI are exclusive with the config file', flag);
    }
  });

  it('checks run in OVMS order: the first failing one is reported', () => {
    // grpc_workers (4) before rest_workers (5) before ports (7) before bind address (8) before log level (11).
    assert.match(usage(['--config_path', '/c', '--grpc_workers', '0', '--rest_workers', '1', '--port', '70000']), /^grpc_workers count/);
    assert.match(usage(['--config_path', '/c', '--rest_workers', '1', '--port', '70000']), /^rest_workers count/);
    assert.match(usage(['--config_path', '/c', '--port', '70000', '--rest_bind_address', 'bad_host']), /^port number/);
    assert.match(usage(['--config_path', '/c', '--rest_port', '8000', '--rest_bind_address', 'bad_host', '--log_level', 'x']), /^rest_bind_address/);
    assert.match(usage(['--config_path', '/c', '--rest_port', '9178', '--log_level', 'x']), /^port and rest_port/);
    assert.match(usage(['--model_name', 'm', '--model_path', '/m', '--log_level', 'x', '--idle_sequence_cleanup']), /^log_level/);
  });

  it('rest_workers equal to the default is allowed without rest_port', () => {
    assert.equal(serve(['--config_path', '/c', '--rest_workers', String(4 * cores)]).restWorkers, 4 * cores);
  });

  it('port 0 (any free port) is allowed while REST is off', () => {
    assert.equal(serve(['--config_path', '/c', '--port', '0']).port, 0);
  });

  it('metrics: enable needs rest_port; list needs enable; both are carried', () => {
    const c = serve(['--config_path', '/c', '--rest_port', '8000', '--metrics_enable', '--metrics_list', 'ovms_requests_success, ovms_requests_fail']);
    assert.equal(c.metricsEnable, true);
    assert.deepEqual(c.metricsList, ['ovms_requests_success', 'ovms_requests_fail']);
    assert.equal(usage(['--config_path', '/c', '--rest_port', '8000', '--metrics_enable=false', '--metrics_list', 'a']),
      'metrics_enable setting is missing, required when metrics_list is provided');
  });

  it('bind addresses: IPv4 quads, hostnames and IPv6 literals', () => {
    for (const ok of ['0.0.0.0', '127.0.0.1', '255.255.255.255', 'localhost', 'my-host.example.com', 'a', '::', '::1', 'fe80::1']) {
      assert.equal(isValidBindAddress(ok), true, ok);
    }
    for (const bad of ['192.0.2', '256.1.1.1', '01.2.3.4', '', '-host', 'host-', 'under_score', 'a..b', 'x'.repeat(256), ':::', '1.2.3.4:80']) {
      assert.equal(isValidBindAddress(bad), false, bad);
    }
    assert.equal(serve(['--config_path', '/c', '--grpc_bind_address', '::1']).grpcBindAddress, '::1');
  });

  it('stateful-only flags are accepted with --stateful', () => {
    const m = serve([...single, '--stateful', '--max_sequence_number', '100', '--idle_sequence_cleanup=false', '--low_latency_transformation']).model!;
    assert.equal(m.stateful, true);
    assert.equal(m.maxSequenceNumber, 100);
    assert.equal(m.idleSequenceCleanup, false);
    assert.equal(m.lowLatencyTransformation, true);
    assert.equal(usage([...single, '--stateful=false', '--low_latency_transformation']),
      'Setting low_latency_transformation, max_sequence_number and idle_sequence_cleanup require setting stateful flag for the model.');
  });

  it('an existing --cpu_extension file is accepted and carried', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsms-cli-'));
    try {
      const lib = path.join(dir, 'libext.so');
      writeFileSync(lib, '');
      assert.equal(serve(['--config_path', '/c', '--cpu_extension', lib]).cpuExtension, lib);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseCommandLine: single-model values', () => {
  const model = (...extra: string[]) => serve([...single, ...extra]).model!;

  it('model_version_policy: all, latest, specific', () => {
    assert.deepEqual(model('--model_version_policy', '{"all": {}}').versionPolicy, { kind: 'all' });
    assert.deepEqual(model('--model_version_policy', '{"latest": {"num_versions": 2}}').versionPolicy, { kind: 'latest', numVersions: 2 });
    assert.deepEqual(model('--model_version_policy', '{"specific": {"versions": [1, 3]}}').versionPolicy, { kind: 'specific', versions: [1, 3] });
  });

  it('model_version_policy: non-positive versions are dropped with a warning', () => {
    const parsed = parseCommandLine([...single, '--model_version_policy', '{"specific": {"versions": [0, 2, -1]}}']);
    assert.equal(parsed.action, 'serve');
    if (parsed.action !== 'serve') return;
    assert.deepEqual(parsed.config.model?.versionPolicy, { kind: 'specific', versions: [2] });
    assert.equal(parsed.warnings?.length, 2);
  });

  it('model_version_policy: wrong ones are usage errors', () => {
    const wrong = (p: string) => usage([...single, '--model_version_policy', p]);
    assert.match(wrong('{"all": {}, "latest": {"num_versions": 1}}'), /^Invalid --model_version_policy: Model version policy is in wrong format - .*exactly one/);
    assert.match(wrong('{"latest": {"num_versions": 0}}'), /Model version policy is in wrong format - .*"num_versions" must be an integer >= 1/);
    assert.match(wrong('{"latest": {"versions": 1}}'), /Model version policy is in wrong format/);
    assert.match(wrong('{"specific": {"versions": 1}}'), /"versions" must be an array/);
    assert.match(wrong('{"all": {"x": 1}}'), /"all" takes an empty object/);
    assert.match(wrong('latest'), /^Invalid --model_version_policy: Model version policy is in wrong format - "latest" is not valid JSON/);
    assert.match(wrong('[]'), /expected an object/);
  });

  it('shape: auto, tuple with spaces, JSON map of strings or arrays', () => {
    assert.equal(model('--shape', 'auto').shape, 'auto');
    assert.deepEqual(model('--shape', '( 1, 3, 224, 224 )').shape, [1, 3, 224, 224]);
    assert.deepEqual(model('--shape', '{"data": "(1,3,600,600)", "im_info": "auto", "x": [2, 5]}').shape,
      { data: [1, 3, 600, 600], im_info: 'auto', x: [2, 5] });
  });

  it('shape: wrong formats are usage errors', () => {
    for (const bad of ['(1,-3)', '1,3', '(1,,3)', '(1,3', '{"a": "(x)"}', '{"a": 5}', '[1,2]', 'AUTO', '(99999999999)']) {
      assert.match(usage([...single, '--shape', bad]), /^Invalid --shape: The provided shape is in wrong format - /, bad);
    }
  });

  it('shape map: the reserved anonymous name is dropped with a warning', () => {
    const parsed = parseCommandLine([...single, '--shape', '{"ANONYMOUS_INPUT_NAME": "(1,2)", "b": "(1,10)"}']);
    assert.equal(parsed.action, 'serve');
    if (parsed.action !== 'serve') return;
    assert.deepEqual(parsed.config.model?.shape, { b: [1, 10] });
    assert.deepEqual(parsed.warnings, ['Provided shape name: ANONYMOUS_INPUT_NAME is forbidden and will be omitted']);
  });

  it('batch_size: number, auto, 0 = the model\'s own; junk is a usage error', () => {
    assert.equal(model('--batch_size', '8').batchSize, 8);
    assert.equal(model('--batch_size', 'auto').batchSize, 'auto');
    assert.equal(model('--batch_size', '0').batchSize, undefined);
    assert.equal('batchSize' in model(), false);
    assert.match(usage([...single, '--batch_size', 'big']), /^Invalid --batch_size: /);
  });

  it('shape wins over batch_size, with OVMS\'s warning', () => {
    const parsed = parseCommandLine([...single, '--batch_size', '4', '--shape', '(1,10)']);
    assert.equal(parsed.action, 'serve');
    if (parsed.action !== 'serve') return;
    assert.equal(parsed.config.model?.batchSize, undefined);
    assert.deepEqual(parsed.config.model?.shape, [1, 10]);
    assert.deepEqual(parsed.warnings, ['Both shape and batch size have been defined. Batch size parameter will be ignored.']);
  });

  it('plugin_config: values become strings; other types are usage errors', () => {
    assert.deepEqual(model('--plugin_config', '{"CPU_THROUGHPUT_STREAMS": "1", "NUM": 4, "F": 0.5}').pluginConfig,
      { CPU_THROUGHPUT_STREAMS: '1', NUM: '4', F: '0.5' });
    assert.match(usage([...single, '--plugin_config', '{"A": true}']), /^Invalid --plugin_config: Plugin config is in wrong format - "A": true must be a string or a number/);
    assert.match(usage([...single, '--plugin_config', '{"A": 1']), /^Invalid --plugin_config: Plugin config is in wrong format - .* is not valid JSON/);
    assert.match(usage([...single, '--plugin_config', '["A"]']), /expected an object/);
  });

  it('layout: raw string or JSON map kept as given', () => {
    assert.equal(model('--layout', 'NHWC:NCHW').layout, 'NHWC:NCHW');
    assert.deepEqual(model('--layout', '{"in": "nhwc"}').layout, { in: 'nhwc' });
    assert.match(usage([...single, '--layout', '{"in": 1}']), /^Invalid --layout: The provided layout is in wrong format/);
  });

  it('nireq: up to 100000; target_device', () => {
    assert.equal(model('--nireq', '100000').nireq, 100000);
    assert.equal(usage([...single, '--nireq', '100001']), 'Invalid --nireq: Nireq parameter too high - Exceeded allowed nireq value');
    assert.equal(model('--target_device', 'GPU').targetDevice, 'GPU');
  });

  it('model_path: relative made absolute, URLs kept, .. forbidden', () => {
    assert.equal(serve(['--model_name', 'm', '--model_path', 'models/m']).model?.basePath, path.resolve('models/m'));
    assert.equal(serve(['--model_name', 'm', '--model_path', 's3://bucket/m']).model?.basePath, 's3://bucket/m');
    assert.equal(usage(['--model_name', 'm', '--model_path', '/models/../etc']), 'Invalid --model_path: Path /models/../etc escape with .. is forbidden.');
  });

  it('grpc_channel_arguments: integers become numbers; malformed is a usage error', () => {
    assert.deepEqual(serve([...single, '--grpc_channel_arguments', 'grpc.max_connection_age_ms=2000, grpc.primary_user_agent=tsms']).grpcChannelArguments,
      { 'grpc.max_connection_age_ms': 2000, 'grpc.primary_user_agent': 'tsms' });
    assert.equal(usage([...single, '--grpc_channel_arguments', 'a=1,b']), 'grpc channel arguments passed in wrong format: a=1,b');
  });

  it('cache_dir and sequence_cleaner_poll_wait_minutes are carried', () => {
    const c = serve([...single, '--cache_dir', '/opt/cache', '--sequence_cleaner_poll_wait_minutes', '0', '--file_system_poll_wait_seconds', '0']);
    assert.equal(c.cacheDir, '/opt/cache');
    assert.equal(c.sequenceCleanerPollWaitMinutes, 0);
    assert.equal(c.filePollWaitSeconds, 0);
  });
});

describe('parseCommandLine: help and version in-process', () => {
  let help = '';
  before(() => {
    const parsed = parseCommandLine([]);
    assert.equal(parsed.action, 'help');
    help = parsed.action === 'help' ? parsed.text : '';
  });
  it('help text ends with a newline and lists every option once', () => {
    assert.ok(help.endsWith('\n'));
    assert.equal(help.match(/--model_version_policy /g)?.length, 1);
  });

  it('version action', () => {
    assert.equal(parseCommandLine(['--version']).action, 'version');
  });
});
