/**
 * Real local storage servers for the cloud-storage tests, started and stopped by the tests:
 * Ceph RADOS Gateway (S3, Debian packages: scripts/storage/ci-setup.sh), azurite (Azure Blob, npm)
 * and firebase-tools' Cloud Storage emulator (GCS JSON API, npm; through scripts/storage/gcs-emulator.cjs).
 * Each is reached through its official SDK, the same way an operator would upload models.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, repoRoot } from './server.js';

const run = promisify(execFile);

/** One storage server with a bucket ready for models. */
export interface TestStore {
  readonly label: string;
  readonly scheme: 's3' | 'gs' | 'az';
  readonly bucket: string;
  /** Environment that lets tsms reach the store (endpoint and credentials). */
  readonly env: Record<string, string>;
  /** The same, with a wrong secret; undefined when the server checks no credentials. */
  readonly wrongSecretEnv?: Record<string, string>;
  url(key: string): string;
  put(key: string, body: Uint8Array): Promise<void>;
  /** Deletes every object whose key starts with `prefix`. */
  remove(prefix: string): Promise<void>;
  /** Stops the server process (objects are kept); `resume` brings it back. */
  suspend(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** Uploads every file under `localDir` to `key/…`. */
export async function uploadDir(store: TestStore, localDir: string, key: string): Promise<void> {
  for (const name of readdirSync(localDir)) {
    const full = path.join(localDir, name);
    if (statSync(full).isDirectory()) await uploadDir(store, full, `${key}/${name}`);
    else await store.put(`${key}/${name}`, readFileSync(full));
  }
}

/**
 * A suite whose server is missing is skipped on a developer's machine, but never in CI
 * (CI=true): there it runs and fails, so a broken install cannot pass as "skipped".
 */
function skipUnlessCi(missing: boolean, reason: string): string | false {
  return missing && !process.env['CI'] ? reason : false;
}

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      fetch(`http://127.0.0.1:${port}/`).then(() => resolve(), () => {
        if (Date.now() > deadline) reject(new Error(`nothing answered on port ${port}`));
        else setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

// -------------------------------------------------------------------------------------------------
// S3: Ceph RADOS Gateway

export function rgwSkipReason(): string | false {
  const installed = hasCommand('radosgw') && hasCommand('ceph-mon') && hasCommand('ceph-osd') && hasCommand('curl');
  return skipUnlessCi(!installed, 'needs Ceph RADOS Gateway (ceph-mon, ceph-osd, radosgw) and curl: run scripts/storage/ci-setup.sh');
}

export async function startRgw(bucket = 'models'): Promise<TestStore> {
  const { S3Client, CreateBucketCommand, PutObjectCommand, ListObjectsV2Command, DeleteObjectsCommand } = await import('@aws-sdk/client-s3');
  const base = mkdtempSync(path.join(os.tmpdir(), 'tsms-rgw-'));
  const rgwPort = await freePort();
  const monPort = await freePort();
  const scriptEnv = { ...process.env, RGW_BASE: base, RGW_PORT: String(rgwPort), MON_PORT: String(monPort) };
  const script = (name: string, ...args: string[]) => run('bash', [path.join(repoRoot, 'scripts/storage', name), ...args], { env: scriptEnv, timeout: 180_000 });
  try {
    await script('rgw-start.sh');
  } catch (err) {
    await script('rgw-stop.sh').catch(() => undefined);
    throw err;
  }
  const endpoint = `http://127.0.0.1:${rgwPort}`;
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  const client = new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: 'CIACCESSKEY', secretAccessKey: 'CISECRETKEY' },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const env = { S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: 'CIACCESSKEY', AWS_SECRET_ACCESS_KEY: 'CISECRETKEY', AWS_REGION: 'us-east-1' };
  return {
    label: 'S3 (Ceph RGW)',
    scheme: 's3',
    bucket,
    env,
    wrongSecretEnv: { ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' },
    url: (key) => `s3://${bucket}/${key}`,
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async remove(prefix) {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    },
    async suspend() {
      await script('rgw-stop.sh', '--gateway-only');
    },
    async resume() {
      await script('rgw-start.sh', '--gateway-only');
    },
    async close() {
      client.destroy();
      await script('rgw-stop.sh');
      rmSync(base, { recursive: true, force: true });
    },
  };
}

// -------------------------------------------------------------------------------------------------
// Azure Blob: azurite

const AZURITE_BIN = path.join(repoRoot, 'node_modules/.bin/azurite-blob');
/** azurite's well-known development account (public, documented by Microsoft). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export function azuriteSkipReason(): string | false {
  return skipUnlessCi(!existsSync(AZURITE_BIN), 'needs azurite (npm devDependency): run npm install');
}

export async function startAzurite(container = 'models'): Promise<TestStore> {
  const { BlobServiceClient } = await import('@azure/storage-blob');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsms-azurite-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async () => {
    // On-disk persistence, so stopping the server (an outage) does not lose the models.
    child = spawn(AZURITE_BIN, ['--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', dataDir,
      '--disableTelemetry', '--skipApiVersionCheck', '--silent'], { stdio: 'ignore' });
    await waitForPort(port, 30_000);
  };
  await launch();
  const connection = (key: string) => `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${key};BlobEndpoint=http://127.0.0.1:${port}/${DEV_ACCOUNT};`;
  const service = BlobServiceClient.fromConnectionString(connection(DEV_KEY));
  const containerClient = service.getContainerClient(container);
  await containerClient.create();
  return {
    label: 'Azure Blob (azurite)',
    scheme: 'az',
    bucket: container,
    env: { AZURE_STORAGE_CONNECTION_STRING: connection(DEV_KEY) },
    wrongSecretEnv: { AZURE_STORAGE_CONNECTION_STRING: connection(Buffer.from('not-the-account-key-at-all-000000').toString('base64')) },
    url: (key) => `az://${container}/${key}`,
    async put(key, body) {
      await containerClient.getBlockBlobClient(key).uploadData(body);
    },
    async remove(prefix) {
      for await (const b of containerClient.listBlobsFlat({ prefix })) await containerClient.deleteBlob(b.name);
    },
    async suspend() {
      await stopChild(child);
    },
    resume: launch,
    async close() {
      await stopChild(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// -------------------------------------------------------------------------------------------------
// GCS: firebase-tools' Cloud Storage emulator

const GCS_SHIM = path.join(repoRoot, 'scripts/storage/gcs-emulator.cjs');

export function gcsEmulatorSkipReason(): string | false {
  const installed = existsSync(path.join(repoRoot, 'node_modules/firebase-tools/lib/emulator/storage/server.js'));
  return skipUnlessCi(!installed, 'needs firebase-tools (npm devDependency, its Cloud Storage emulator): run npm install');
}

export async function startGcsEmulator(bucket = 'models'): Promise<TestStore> {
  const { Storage } = await import('@google-cloud/storage');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsms-gcs-'));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const client = new Storage({ apiEndpoint: endpoint, projectId: 'demo-tsms' });
  const b = client.bucket(bucket);
  const launch = async () => {
    // GCS_DATA_DIR: the shim exports its objects there when stopped and imports them at start.
    child = spawn(process.execPath, [GCS_SHIM], {
      env: { ...process.env, PORT: String(port), TMPDIR: dataDir, GCS_DATA_DIR: path.join(dataDir, 'export') },
      stdio: 'ignore',
    });
    await waitForPort(port, 30_000);
  };
  await launch();
  return {
    label: 'GCS (firebase-tools Cloud Storage emulator)',
    scheme: 'gs',
    bucket,
    env: { STORAGE_EMULATOR_HOST: endpoint },
    url: (key) => `gs://${bucket}/${key}`,
    async put(key, body) {
      await b.file(key).save(Buffer.from(body), { resumable: false });
    },
    async remove(prefix) {
      const [files] = await b.getFiles({ prefix });
      for (const f of files) await f.delete();
    },
    async suspend() {
      await stopChild(child);
    },
    resume: launch,
    async close() {
      await stopChild(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
