/**
 * The web console end to end in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core): the page loads, lists `dummy` AVAILABLE, charts traffic from /metrics, sends
 * an image to a detection model and draws its boxes, and shows a classifier's top classes; with
 * --api_key_file it asks for the key and works once given the right one.
 * Screenshots go to test-artifacts/. Skips when Chromium is not installed
 * (`apt-get install -y chromium`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, repoRoot, sharedDir, sharedModels, type RunningServer } from './helpers/server.js';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { classifierModel, detectorModel } from './helpers/console-models.js';
import { KServeRestClient, tensor } from '../src/client/index.js';

const CHROMIUM = '/usr/bin/chromium';
const noBrowser = existsSync(CHROMIUM) ? false : `needs ${CHROMIUM} (apt-get install -y chromium)`;
/** Flags for this closed network: no background connections, no first-run work (machines/node.md). */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const artifacts = path.join(repoRoot, 'test-artifacts');
const faceModel = path.join(sharedModels, 'face-detection-retail-0004-onnx');
const peopleImage = path.join(sharedDir, 'images/people1.jpeg');

describe('web console in Chromium', { skip: noBrowser }, () => {
  const repo = tempDir('tsms-console-');
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const withFaces = existsSync(faceModel) && existsSync(peopleImage);

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    writeRepository(repo.path, { dummy: { 1: dummyModel() }, detector: { 1: detectorModel() }, classifier: { 1: classifierModel() } });
    const models = ['dummy', 'detector', 'classifier'].map((name) => ({ config: { name, base_path: path.join(repo.path, name) } }));
    if (withFaces) models.push({ config: { name: 'faces', base_path: faceModel } });
    writeFileSync(path.join(repo.path, 'config.json'), JSON.stringify({ model_config_list: models }));
    // A picture for the detector: a gradient, so the drawn boxes stand out in the screenshot.
    const w = 320, h = 240, rgb = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set([x % 256, y % 256, 160], (y * w + x) * 3);
    await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(repo.path, 'picture.png'));
    writeFileSync(path.join(repo.path, 'logits.json'), JSON.stringify([[0, 1, 2, 9, 4, 5, 6, 7, 8, 3]]));

    server = await startServer({ args: ['--config_path', path.join(repo.path, 'config.json'), '--metrics_enable', '--file_system_poll_wait_seconds', '0'] });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    repo.remove();
  });

  it('lists dummy as AVAILABLE, with the configuration in force', async () => {
    await page.goto(`${server.restUrl}/`);
    const row = page.locator('tr[data-model="dummy"][data-version="1"]');
    await row.waitFor();
    assert.equal(await row.getAttribute('data-state'), 'AVAILABLE');
    assert.match(await row.innerText(), /dummy\s+1\s+AVAILABLE\s+OK/);
    assert.equal(await page.locator('#readiness').innerText(), 'ready');
    const config = JSON.parse(await page.locator('#config').innerText());
    assert.equal(config.server.restPort, server.restPort);
    assert.equal(config.models.detector.basePath, path.join(repo.path, 'detector'));
  });

  it('charts request rates from /metrics', async () => {
    const client = new KServeRestClient({ address: server.restUrl });
    await page.waitForFunction(() => document.querySelector('#charts')?.hasAttribute('hidden') === false);
    // The first series colour (#1a73e8) above the legend, i.e. a plotted rate: the page needs two
    // scrapes of /metrics around some traffic, so requests go on (bounded) until it shows.
    const plotted = () => page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('#rate-chart')!;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height - 36).data;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i] === 0x1a && pixels[i + 1] === 0x73 && pixels[i + 2] === 0xe8) return true;
      return false;
    });
    let seen = false;
    for (let round = 0; round < 40 && !seen; round++) {
      for (let i = 0; i < 10; i++) await client.infer('dummy', { b: tensor('FP32', [1, 10], new Float32Array(10)) });
      await new Promise((r) => setTimeout(r, 250));
      seen = await plotted();
    }
    assert.equal(seen, true, 'a request rate is plotted for dummy');
    await page.locator('#traffic-section').screenshot({ path: path.join(artifacts, 'console-traffic.png') });
  });

  it('sends an image to a detection model and draws its boxes', async () => {
    await page.selectOption('#try-model', 'detector');
    await page.setInputFiles('#try-file', path.join(repo.path, 'picture.png'));
    await page.click('#try-run');
    await page.locator('#try-result[data-kind="detection"]').waitFor();
    // Two of the three rows pass the default 0.5 threshold.
    assert.equal(await page.locator('#try-result').getAttribute('data-boxes'), '2');
    const boxes = await page.locator('#try-list li.box').allInnerTexts();
    assert.deepEqual(boxes, ['label 1: 90.0% at [0.100, 0.100, 0.450, 0.500]', 'label 2: 75.0% at [0.550, 0.450, 0.900, 0.950]']);
    assert.equal(await page.locator('#try-canvas').isVisible(), true);
    // The first box's outline colour is on the canvas at its top-left corner (x 0.1·320, y 0.1·240).
    const corner = await page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('#try-canvas')!;
      return [...c.getContext('2d')!.getImageData(Math.round(0.1 * c.width) + 10, Math.round(0.1 * c.height), 1, 1).data];
    });
    assert.deepEqual(corner.slice(0, 3), [0x1a, 0x73, 0xe8]);
    await page.screenshot({ path: path.join(artifacts, 'console-detection.png'), fullPage: true });
  });

  it('shows the top classes of a classifier for a JSON input', async () => {
    await page.selectOption('#try-model', 'classifier');
    await page.setInputFiles('#try-file', path.join(repo.path, 'logits.json'));
    await page.click('#try-run');
    await page.locator('#try-result[data-kind="classifier"]').waitFor();
    const classes = await page.locator('#try-list li.class').allInnerTexts();
    assert.equal(classes.length, 5);
    assert.match(classes[0]!, /^class 3: 6\d\.\d\d%$/);
    assert.match(classes[1]!, /^class 8: /);
  });

  it('shows a model error as text for a wrong input', async () => {
    await page.selectOption('#try-model', 'dummy');
    await page.setInputFiles('#try-file', { name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('[[1, 2, 3]]') });
    await page.click('#try-run');
    await page.locator('#try-status.error-text').waitFor();
    assert.equal(await page.locator('#try-status').innerText(), 'Invalid input shape - Expected: (1,10); Actual: (1,3)');
  });

  it('finds the faces in people1.jpeg with face-detection-retail-0004', { skip: withFaces ? false : 'needs ../shared/models/face-detection-retail-0004-onnx and ../shared/images (missing)' }, async () => {
    await page.reload();
    await page.locator('tr[data-model="faces"][data-state="AVAILABLE"]').waitFor();
    await page.selectOption('#try-model', 'faces');
    await page.setInputFiles('#try-file', peopleImage);
    await page.click('#try-run');
    await page.locator('#try-result[data-kind="detection"]').waitFor({ timeout: 30000 });
    // MODELS.md: 10 faces with conf > 0.5 on this image.
    assert.equal(await page.locator('#try-result').getAttribute('data-boxes'), '10');
    await page.screenshot({ path: path.join(artifacts, 'console-faces.png'), fullPage: true });
  });
});

describe('web console in Chromium with --api_key_file', { skip: noBrowser }, () => {
  const repo = tempDir('tsms-console-key-');
  const KEY = 'console-key-0123456789';
  let server: RunningServer;
  let browser: Browser;

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    writeRepository(repo.path, { dummy: { 1: dummyModel() } });
    const keyFile = path.join(repo.path, 'api.key');
    writeFileSync(keyFile, `${KEY}\n`);
    server = await startServer({ args: ['--model_name', 'dummy', '--model_path', path.join(repo.path, 'dummy'), '--api_key_file', keyFile] });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    repo.remove();
  });

  it('loads the page without the key, asks for it, keeps asking for a wrong one, and shows the models with the right one', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${server.restUrl}/`);
    await page.locator('#auth').waitFor({ state: 'visible' });
    assert.equal(await page.locator('tr[data-model="dummy"]').count(), 0);

    await page.fill('#api-key', `${KEY}x`);
    await page.click('#api-key-save');
    await page.locator('#auth').waitFor({ state: 'visible' });
    assert.equal(await page.locator('tr[data-model="dummy"]').count(), 0);

    await page.fill('#api-key', KEY);
    await page.click('#api-key-save');
    await page.locator('tr[data-model="dummy"][data-version="1"][data-state="AVAILABLE"]').waitFor();
    assert.equal(await page.locator('#auth').isHidden(), true);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tsms-api-key')), KEY);
    await page.screenshot({ path: path.join(artifacts, 'console-api-key.png'), fullPage: true });
    await page.close();
  });
});
