/**
 * Local storage, version folder discovery and version policies (SPEC §3, §4.1).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LocalStorage } from '../src/storage/local.js';
import { StorageError } from '../src/storage/storage.js';
import { isPathEscaped, parseVersionName, RepositoryPathError, scanVersions } from '../src/repository/version-scan.js';
import { selectVersions } from '../src/repository/version-policy.js';
import { FILE_INVALID, pickVersionFiles } from '../src/repository/model-files.js';
import { modelFormats } from '../src/runtime/formats.js';
import { tempDir } from './helpers/models.js';

const tmp = tempDir();
after(() => tmp.remove());
const storage = new LocalStorage();

test('LocalStorage lists, stats, reads and localizes', async () => {
  const dir = path.join(tmp.path, 'storage');
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'file.txt'), 'hello');
  symlinkSync(path.join(dir, 'sub'), path.join(dir, 'link'));
  symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));

  const entries = (await storage.list(dir)).sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(entries, [
    { name: 'file.txt', isDirectory: false },
    { name: 'link', isDirectory: true },
    { name: 'sub', isDirectory: true },
  ]);
  assert.equal((await storage.read(storage.join(dir, 'file.txt'))).toString(), 'hello');
  const s = await storage.stat(path.join(dir, 'file.txt'));
  assert.equal(s?.size, 5);
  assert.equal(s?.isDirectory, false);
  assert.equal(await storage.stat(path.join(dir, 'missing')), undefined);
  const local = await storage.localize(dir);
  assert.equal(local.path, dir);
  await local.release();
  assert.equal((await storage.stat(dir))?.isDirectory, true, 'release of a local folder deletes nothing');
});

test('LocalStorage: a missing folder or file is StorageError NOT_FOUND', async () => {
  for (const op of [() => storage.list(path.join(tmp.path, 'nope')), () => storage.read(path.join(tmp.path, 'nope.bin')), () => storage.localize(path.join(tmp.path, 'nope'))]) {
    await assert.rejects(op, (err: unknown) => err instanceof StorageError && err.kind === 'NOT_FOUND');
  }
});

test('version folder names: digits only, > 0; others skipped with OVMS warnings', () => {
  assert.deepEqual(parseVersionName('1'), { version: 1 });
  assert.deepEqual(parseVersionName('42'), { version: 42 });
  assert.deepEqual(parseVersionName('007'), { version: 7 });
  assert.deepEqual(parseVersionName('0'), { reason: 'Expected version directory name to be a number greater than 0. Got: 0' });
  assert.deepEqual(parseVersionName('-3'), { reason: 'Expected version directory name to be a number greater than 0. Got: -3' });
  assert.deepEqual(parseVersionName('1abc'), { reason: 'Expected version directory name to be in number format. Got: 1abc' });
  assert.deepEqual(parseVersionName('abc'), { reason: 'Expected version directory name to be in number format. Got: abc' });
  assert.deepEqual(parseVersionName(' 1'), { reason: 'Expected version directory name to be in number format. Got:  1' });
  assert.deepEqual(parseVersionName('99999999999999999999'), { reason: 'Directory name is out of range for supported version format. Got: 99999999999999999999' });
});

test('scanVersions finds version folders only (files and odd names are not versions)', async () => {
  const base = path.join(tmp.path, 'scan');
  for (const d of ['1', '2', '01', 'abc', '0', '-3', '10']) mkdirSync(path.join(base, d), { recursive: true });
  writeFileSync(path.join(base, '3'), 'a file named like a version');
  writeFileSync(path.join(base, 'labels.txt'), 'x');
  symlinkSync(path.join(base, '10'), path.join(base, '5'));

  const scan = await scanVersions(storage, base);
  assert.deepEqual([...scan.versions.entries()].sort((a, b) => a[0] - b[0]), [[1, '1'], [2, '2'], [5, '5'], [10, '10']]);
  assert.deepEqual(scan.skipped.map((s) => s.name).sort(), ['-3', '0', '01', 'abc']);
  assert.match(scan.skipped.find((s) => s.name === '01')!.reason, /Version 1 is already provided by directory 1\. Got: 01/);
});

test('scanVersions: empty base path is no versions; missing or escaping paths are PATH_INVALID errors', async () => {
  const empty = path.join(tmp.path, 'empty');
  mkdirSync(empty);
  assert.equal((await scanVersions(storage, empty)).versions.size, 0);
  await assert.rejects(scanVersions(storage, path.join(tmp.path, 'missing')), (err: unknown) =>
    err instanceof RepositoryPathError && /Directory does not exist/.test(err.message));
  await assert.rejects(scanVersions(storage, `${tmp.path}/empty/../scan`), (err: unknown) =>
    err instanceof RepositoryPathError && /escape with \.\. is forbidden/.test(err.message));
  assert.equal(isPathEscaped('/models/../etc'), true);
  assert.equal(isPathEscaped('models/a..b/1'), false);
});

test('version policies: all, latest N, specific (intersection with what exists)', () => {
  const found = [3, 1, 2];
  assert.deepEqual(selectVersions({ kind: 'all' }, found), [1, 2, 3]);
  assert.deepEqual(selectVersions({ kind: 'latest', numVersions: 1 }, found), [3]);
  assert.deepEqual(selectVersions({ kind: 'latest', numVersions: 2 }, found), [2, 3]);
  assert.deepEqual(selectVersions({ kind: 'latest', numVersions: 10 }, found), [1, 2, 3]);
  assert.deepEqual(selectVersions({ kind: 'specific', versions: [1, 3, 7] }, found), [1, 3]);
  assert.deepEqual(selectVersions({ kind: 'specific', versions: [7] }, found), []);
  assert.deepEqual(selectVersions({ kind: 'all' }, []), []);
});

test('model files: the first matching format picks them; none → File not found or cannot open', async () => {
  const v = path.join(tmp.path, 'files', '1');
  mkdirSync(v, { recursive: true });
  writeFileSync(path.join(v, 'readme.md'), 'x');
  await assert.rejects(pickVersionFiles(storage, v, modelFormats), (err: unknown) =>
    err instanceof Error && err.message.startsWith(FILE_INVALID));
  writeFileSync(path.join(v, 'b.onnx'), 'x');
  writeFileSync(path.join(v, 'a.onnx'), 'x');
  const picked = await pickVersionFiles(storage, v, modelFormats);
  assert.equal(picked.format.name, 'onnx');
  assert.deepEqual(picked.files, ['a.onnx']);
});
