/**
 * The console's browser code, served as /console/console.js: `(consoleApp)()` from this
 * function's compiled source, so it is type-checked with the project and ships inside dist/src
 * (the npm package and the container image carry only compiled files). It must stay
 * self-contained: no imports and no references to anything outside the function body.
 *
 * It polls the server's own endpoints (/console/api/state, /v2/health/ready, /metrics) and runs
 * "try it" requests with the public KServe v2 REST API. Server data is always inserted as text,
 * never as HTML.
 */
export function consoleApp(): void {
  // ---- shapes of what the server answers (only the fields used here) ----
  interface VersionRow { version: string; state: string; errorCode: string; errorMessage: string; detail?: string }
  interface ModelRow { name: string; kind: 'model' | 'pipeline'; versions: VersionRow[]; error?: string; config?: unknown }
  interface ServerInfo { port: number; restPort: number; configPath?: string; model?: { name: string; basePath: string } }
  interface State { server: ServerInfo | null; metricsEnabled: boolean; models: ModelRow[] }
  interface IoSpec { name: string; datatype: string; shape: number[] }
  interface Metadata { name: string; inputs: IoSpec[]; outputs: IoSpec[] }
  interface OutputTensor { name: string; datatype: string; shape: number[]; data: unknown[] }
  interface InferAnswer { model_name: string; model_version: string; outputs: OutputTensor[] }
  type TypedArray = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
  interface InputTensor { name: string; datatype: string; shape: number[]; data: TypedArray | unknown[] }
  interface Box { label: number; score: number; x1: number; y1: number; x2: number; y2: number }
  interface Sample { t: number; rate: Map<string, number>; latency: Map<string, number> }
  type SeriesKey = 'rate' | 'latency';

  const POLL_MS = 2000;
  const CHART_POINTS = 90;
  const COLORS = ['#1a73e8', '#e8710a', '#1e8e3e', '#d93025', '#9334e6', '#12b5cb', '#f9ab00', '#5f6368'];

  function $<T extends HTMLElement = HTMLElement>(id: string): T {
    const node = document.getElementById(id);
    if (!node) throw new Error(`the page has no #${id}`);
    return node as T;
  }
  let apiKey = sessionStorage.getItem('tsms-api-key') ?? '';

  async function api(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers ?? {});
    if (apiKey) headers.set('Authorization', `Bearer ${apiKey}`);
    const res = await fetch(path, { ...init, headers });
    if (res.status === 401) $('auth').hidden = false;
    return res;
  }

  async function apiJson<T>(path: string, init?: RequestInit): Promise<T> {
    const res = await api(path, init);
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: text };
    }
    if (!res.ok) throw new Error((body as { error?: string }).error ?? `HTTP ${res.status}`);
    return body as T;
  }

  function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string | number)[]): HTMLElement {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function message(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
  }

  // ---- models, readiness and configuration ----

  let lastState: State | undefined;

  async function refreshState(): Promise<void> {
    try {
      const state = await apiJson<State>('/console/api/state');
      lastState = state;
      renderModels(state.models);
      renderConfig(state);
      renderServerLine(state.server);
      fillModelSelect(state.models);
      $('metrics-off').hidden = state.metricsEnabled;
      $('charts').hidden = !state.metricsEnabled;
    } catch (err) {
      $('server-line').textContent = `cannot read the server state: ${message(err)}`;
    }
    try {
      const res = await api('/v2/health/ready');
      setBadge($('readiness'), res.ok ? 'ready' : 'not ready', res.ok ? 'ready' : 'not-ready');
    } catch {
      setBadge($('readiness'), 'unreachable', 'not-ready');
    }
  }

  function setBadge(node: HTMLElement, text: string, cls: string): void {
    node.textContent = text;
    node.className = `badge ${cls}`;
  }

  function renderServerLine(server: ServerInfo | null): void {
    if (!server) return;
    const parts = [`gRPC :${server.port}`, `REST :${server.restPort}`];
    if (server.configPath) parts.push(server.configPath);
    else if (server.model) parts.push(`${server.model.name} ← ${server.model.basePath}`);
    $('server-line').textContent = parts.join(' · ');
  }

  function renderModels(models: ModelRow[]): void {
    const body = $<HTMLTableElement>('models').tBodies[0]!;
    const rows: HTMLElement[] = [];
    for (const m of models) {
      const name = m.kind === 'pipeline' ? `${m.name} (pipeline)` : m.name;
      if (m.versions.length === 0) {
        rows.push(el('tr', { 'data-model': m.name },
          el('td', {}, name), el('td', {}, '–'), el('td', {}, el('span', { class: 'badge error' }, 'NO VERSION')),
          el('td', {}, ''), el('td', { class: 'error-text' }, m.error ?? '')));
      }
      for (const v of m.versions) {
        const error = v.errorCode !== 'OK' ? (v.detail ?? v.errorMessage) : (m.error ?? '');
        rows.push(el('tr', { 'data-model': m.name, 'data-version': v.version, 'data-state': v.state },
          el('td', {}, name),
          el('td', {}, v.version),
          el('td', {}, el('span', { class: `badge state-${v.state}` }, v.state)),
          el('td', {}, v.errorCode),
          el('td', { class: 'error-text' }, error)));
      }
    }
    body.replaceChildren(...rows);
  }

  function renderConfig(state: State): void {
    const models = Object.fromEntries(state.models.filter((m) => m.config).map((m) => [m.name, m.config]));
    $('config').textContent = JSON.stringify({ server: state.server, models }, null, 2);
  }

  function fillModelSelect(models: ModelRow[]): void {
    const select = $<HTMLSelectElement>('try-model');
    const names = models.filter((m) => m.versions.some((v) => v.state === 'AVAILABLE')).map((m) => m.name);
    const current = [...select.options].map((o) => o.value);
    if (names.join('\n') === current.join('\n')) return;
    const chosen = select.value;
    select.replaceChildren(...names.map((n) => el('option', { value: n }, n)));
    if (names.includes(chosen)) select.value = chosen;
  }

  // ---- metrics: Prometheus text → per-model request rate and mean latency, drawn on <canvas> ----

  const history: Sample[] = [];
  let previous: { t: number; requests: Map<string, number>; timeSum: Map<string, number>; timeCount: Map<string, number> } | undefined;

  /** Sums a metric's samples by the `name` label. */
  function sumByModel(text: string, metric: string): Map<string, number> {
    const out = new Map<string, number>();
    const re = new RegExp(`^${metric}\\{([^}]*)\\} (\\S+)$`, 'gm');
    for (const m of text.matchAll(re)) {
      const name = /(?:^|,)name="((?:[^"\\]|\\.)*)"/.exec(m[1]!)?.[1];
      if (name === undefined) continue;
      out.set(name, (out.get(name) ?? 0) + Number(m[2]));
    }
    return out;
  }

  async function refreshMetrics(): Promise<void> {
    if (!lastState?.metricsEnabled) return;
    let text: string;
    try {
      const res = await api('/metrics');
      if (!res.ok) return;
      text = await res.text();
    } catch {
      return;
    }
    const now = performance.now() / 1000;
    const requests = sumByModel(text, 'ovms_requests_success');
    for (const [k, v] of sumByModel(text, 'ovms_requests_fail')) requests.set(k, (requests.get(k) ?? 0) + v);
    const timeSum = sumByModel(text, 'ovms_request_time_us_sum');
    const timeCount = sumByModel(text, 'ovms_request_time_us_count');
    if (previous) {
      const before = previous;
      const dt = now - before.t;
      const rate = new Map<string, number>();
      const latency = new Map<string, number>();
      for (const [name, total] of requests) rate.set(name, Math.max(0, total - (before.requests.get(name) ?? 0)) / dt);
      for (const [name, count] of timeCount) {
        const dc = count - (before.timeCount.get(name) ?? 0);
        const ds = (timeSum.get(name) ?? 0) - (before.timeSum.get(name) ?? 0);
        // No request in the interval: no point (a gap), rather than a misleading zero latency.
        latency.set(name, dc > 0 ? ds / dc / 1000 : NaN);
      }
      history.push({ t: now, rate, latency });
      if (history.length > CHART_POINTS) history.shift();
      drawChart($<HTMLCanvasElement>('rate-chart'), 'rate');
      drawChart($<HTMLCanvasElement>('latency-chart'), 'latency');
    }
    previous = { t: now, requests, timeSum, timeCount };
  }

  function drawChart(canvas: HTMLCanvasElement, key: SeriesKey): void {
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const { width: w, height: h } = canvas;
    const pad = { l: 48, r: 8, t: 8, b: 36 };
    ctx.clearRect(0, 0, w, h);
    const names = [...new Set(history.flatMap((p) => [...p[key].keys()]))].sort();
    let max = 0;
    for (const p of history) for (const v of p[key].values()) if (Number.isFinite(v)) max = Math.max(max, v);
    max = max > 0 ? niceCeil(max) : 1;
    ctx.strokeStyle = '#dde1e7';
    ctx.fillStyle = '#6b7280';
    ctx.font = '11px system-ui, sans-serif';
    for (let i = 0; i <= 4; i++) {
      const y = pad.t + ((h - pad.t - pad.b) * i) / 4;
      ctx.beginPath();
      ctx.moveTo(pad.l, y);
      ctx.lineTo(w - pad.r, y);
      ctx.stroke();
      ctx.fillText(formatNumber(max * (1 - i / 4)), 4, y + 4);
    }
    const x = (i: number) => pad.l + ((w - pad.l - pad.r) * i) / (CHART_POINTS - 1);
    const y = (v: number) => pad.t + (h - pad.t - pad.b) * (1 - v / max);
    // Newest sample at the right edge.
    const offset = CHART_POINTS - history.length;
    names.forEach((name, n) => {
      const color = COLORS[n % COLORS.length]!;
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      let drawing = false;
      history.forEach((p, i) => {
        const v = p[key].get(name);
        if (v === undefined || !Number.isFinite(v)) {
          drawing = false;
          return;
        }
        if (drawing) ctx.lineTo(x(i + offset), y(v));
        else ctx.moveTo(x(i + offset), y(v));
        drawing = true;
      });
      ctx.stroke();
      ctx.fillStyle = color;
      // Dots as well, so a lone sample (between gaps, or the first one) is visible.
      history.forEach((p, i) => {
        const v = p[key].get(name);
        if (v !== undefined && Number.isFinite(v)) ctx.fillRect(x(i + offset) - 2, y(v) - 2, 4, 4);
      });
      const lx = pad.l + (n % 4) * 125;
      const ly = h - 20 + Math.floor(n / 4) * 12;
      ctx.fillRect(lx, ly - 8, 10, 3);
      ctx.fillText(name.slice(0, 18), lx + 14, ly - 3);
    });
    ctx.lineWidth = 1;
  }

  function niceCeil(v: number): number {
    const p = 10 ** Math.floor(Math.log10(v));
    return [1, 2, 5, 10].map((m) => m * p).find((c) => c >= v) ?? v;
  }

  function formatNumber(v: number): string {
    return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2);
  }

  // ---- try it: file → tensor → KServe v2 REST infer → boxes, top classes or raw JSON ----

  const TYPED: Record<string, { new (n: number): TypedArray }> = {
    FP32: Float32Array, FP64: Float64Array, INT8: Int8Array, INT16: Int16Array, INT32: Int32Array,
    UINT8: Uint8Array, UINT16: Uint16Array, UINT32: Uint32Array, BOOL: Uint8Array,
  };

  function setStatus(text: string, isError = false): void {
    $('try-status').textContent = text;
    $('try-status').className = isError ? 'error-text' : 'muted';
  }

  async function runTry(event: Event): Promise<void> {
    event.preventDefault();
    const model = $<HTMLSelectElement>('try-model').value;
    const file = $<HTMLInputElement>('try-file').files?.[0];
    $('try-canvas').hidden = true;
    $('try-json').hidden = true;
    $('try-list').replaceChildren();
    delete $('try-result').dataset['kind'];
    delete $('try-result').dataset['boxes'];
    if (!model || !file) {
      setStatus('Choose a model and a file first.', true);
      return;
    }
    try {
      setStatus('Running…');
      const meta = await apiJson<Metadata>(`/v2/models/${encodeURIComponent(model)}`);
      const image = file.type.startsWith('image/') ? await loadImage(file) : undefined;
      const inputs = image ? [imageInput(meta, image)] : jsonInputs(meta, JSON.parse(await file.text()) as unknown);
      const started = performance.now();
      const result = await infer(model, inputs);
      const ms = performance.now() - started;
      showResult(result, image);
      setStatus(`${result.model_name} v${result.model_version}: ${result.outputs.length} output(s) in ${ms.toFixed(1)} ms`);
    } catch (err) {
      setStatus(message(err), true);
    }
  }

  function loadImage(file: File): Promise<HTMLImageElement> {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error(`${file.name} is not an image the browser can decode`));
      img.src = URL.createObjectURL(file);
    });
  }

  /** Layout and size from the first 4-D input: [1,3,H,W] is NCHW, [1,H,W,3] NHWC; -1 takes the image's own size. */
  function imageInput(meta: Metadata, img: HTMLImageElement): InputTensor {
    const spec = meta.inputs.find((i) => i.shape.length === 4 && (i.shape[1] === 3 || i.shape[3] === 3));
    if (!spec) throw new Error(`${meta.name} has no image-like input ([1,3,H,W] or [1,H,W,3])`);
    const nchw = spec.shape[1] === 3;
    const specH = (nchw ? spec.shape[2] : spec.shape[1])!;
    const specW = (nchw ? spec.shape[3] : spec.shape[2])!;
    const h = specH > 0 ? specH : img.naturalHeight;
    const w = specW > 0 ? specW : img.naturalWidth;
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('this browser has no 2D canvas');
    ctx.drawImage(img, 0, 0, w, h);
    const rgba = ctx.getImageData(0, 0, w, h).data;
    const bgr = $<HTMLSelectElement>('try-order').value === 'BGR';
    const mean = Number($<HTMLInputElement>('try-mean').value) || 0;
    const scale = Number($<HTMLInputElement>('try-scale').value) || 1;
    const Ctor = TYPED[spec.datatype];
    if (!Ctor) throw new Error(`image input ${spec.name} is ${spec.datatype}: not supported here`);
    const data = new Ctor(w * h * 3);
    const plane = w * h;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        data[nchw ? c * plane + p : p * 3 + c] = (rgba[p * 4 + (bgr ? 2 - c : c)]! - mean) / scale;
      }
    }
    return { name: spec.name, datatype: spec.datatype, shape: nchw ? [1, 3, h, w] : [1, h, w, 3], data };
  }

  /**
   * JSON files: a KServe request body ({"inputs": [...]}), a map of input name → nested array, or a
   * nested array for a model with one input; dtypes come from the metadata.
   */
  function jsonInputs(meta: Metadata, json: unknown): InputTensor[] {
    if (json !== null && typeof json === 'object' && Array.isArray((json as { inputs?: unknown }).inputs)) {
      return (json as { inputs: InputTensor[] }).inputs;
    }
    const entries: [string, unknown][] = Array.isArray(json) ? [[meta.inputs[0]?.name ?? '', json]] : Object.entries(json ?? {});
    return entries.map(([name, value]) => {
      const spec = meta.inputs.find((i) => i.name === name);
      if (!spec) throw new Error(`${meta.name} has no input ${name} (inputs: ${meta.inputs.map((i) => i.name).join(', ')})`);
      const shape: number[] = [];
      for (let v: unknown = value; Array.isArray(v); v = v[0]) shape.push(v.length);
      return { name, datatype: spec.datatype, shape, data: Array.isArray(value) ? value.flat(Infinity) : [value] };
    });
  }

  /** POST /v2/models/{m}/infer; typed-array inputs go with the binary extension, outputs come back as JSON. */
  async function infer(model: string, inputs: InputTensor[]): Promise<InferAnswer> {
    const binary: TypedArray[] = [];
    const header = {
      inputs: inputs.map((i) => {
        if (!ArrayBuffer.isView(i.data)) return i;
        binary.push(i.data);
        return { name: i.name, datatype: i.datatype, shape: i.shape, parameters: { binary_data_size: i.data.byteLength } };
      }),
    };
    const json = new TextEncoder().encode(JSON.stringify(header));
    return apiJson<InferAnswer>(`/v2/models/${encodeURIComponent(model)}/infer`, {
      method: 'POST',
      body: new Blob([json, ...binary] as BlobPart[]),
      headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(json.byteLength) },
    });
  }

  // Output heuristic (documented in the README, "Web console"):
  //  - detection_out style: an output shaped [1,1,N,7] of [image_id, label, conf, x1, y1, x2, y2]
  //    (coordinates 0..1) → boxes with conf ≥ threshold; a row with image_id < 0 ends the list;
  //  - SSD/UltraFace style: outputs [1,N,4] (boxes x1,y1,x2,y2 in 0..1) and [1,N,C] (class scores)
  //    → the best non-background class per box ≥ threshold, then non-maximum suppression;
  //  - classifier: one output with a single dimension > 1 (e.g. [1,1000] or [1,1000,1,1]) → the top 5
  //    classes (softmax applied when the values are not already probabilities);
  //  - anything else: the outputs as JSON.
  function showResult(result: InferAnswer, image: HTMLImageElement | undefined): void {
    const result$ = $('try-result');
    const threshold = Number($<HTMLInputElement>('try-threshold').value);
    const boxes = detectionBoxes(result.outputs, Number.isFinite(threshold) ? threshold : 0.5);
    if (boxes && image) {
      drawBoxes(image, boxes);
      listItems(boxes.map((b) => `label ${b.label}: ${(b.score * 100).toFixed(1)}% at [${[b.x1, b.y1, b.x2, b.y2].map((v) => v.toFixed(3)).join(', ')}]`), 'box');
      result$.dataset['kind'] = 'detection';
      result$.dataset['boxes'] = String(boxes.length);
      return;
    }
    const top = classifierTop(result.outputs, 5);
    if (top) {
      listItems(top.map((t) => `class ${t.index}: ${(t.p * 100).toFixed(2)}%`), 'class');
      result$.dataset['kind'] = 'classifier';
      return;
    }
    result$.dataset['kind'] = 'raw';
    const json = JSON.stringify(result, null, 1);
    $('try-json').textContent = json.length > 200000 ? `${json.slice(0, 200000)}\n… (cut)` : json;
    $('try-json').hidden = false;
  }

  function listItems(lines: string[], cls: string): void {
    $('try-list').replaceChildren(...lines.map((line) => el('li', { class: cls }, line)));
  }

  function numbers(o: OutputTensor): number[] {
    return (o.data as unknown[]).flat(Infinity).map(Number);
  }

  function detectionBoxes(outputs: OutputTensor[], threshold: number): Box[] | undefined {
    const ssd = outputs.find((o) => o.shape.length === 4 && o.shape[0] === 1 && o.shape[1] === 1 && o.shape[3] === 7);
    if (ssd) {
      const d = numbers(ssd);
      const out: Box[] = [];
      for (let i = 0; i + 7 <= d.length; i += 7) {
        if (d[i]! < 0) break;
        if (d[i + 2]! >= threshold) out.push({ label: d[i + 1]!, score: d[i + 2]!, x1: d[i + 3]!, y1: d[i + 4]!, x2: d[i + 5]!, y2: d[i + 6]! });
      }
      return out;
    }
    const boxOut = outputs.find((o) => o.shape.length === 3 && o.shape[0] === 1 && o.shape[2] === 4);
    const scoreOut = boxOut && outputs.find((o) => o !== boxOut && o.shape.length === 3 && o.shape[1] === boxOut.shape[1] && o.shape[2]! >= 2);
    if (!boxOut || !scoreOut) return undefined;
    const b = numbers(boxOut);
    const s = numbers(scoreOut);
    const classes = scoreOut.shape[2]!;
    const found: Box[] = [];
    for (let i = 0; i < boxOut.shape[1]!; i++) {
      let best = 1;
      for (let c = 2; c < classes; c++) if (s[i * classes + c]! > s[i * classes + best]!) best = c;
      const score = s[i * classes + best]!;
      if (score >= threshold) found.push({ label: best, score, x1: b[i * 4]!, y1: b[i * 4 + 1]!, x2: b[i * 4 + 2]!, y2: b[i * 4 + 3]! });
    }
    return nonMaxSuppression(found, 0.3).slice(0, 200);
  }

  function nonMaxSuppression(boxes: Box[], iouLimit: number): Box[] {
    boxes.sort((a, b) => b.score - a.score);
    const kept: Box[] = [];
    for (const box of boxes) if (kept.every((k) => iou(k, box) < iouLimit)) kept.push(box);
    return kept;
  }

  function iou(a: Box, b: Box): number {
    const w = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
    const h = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
    const inter = w * h;
    const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
    return union > 0 ? inter / union : 0;
  }

  function classifierTop(outputs: OutputTensor[], k: number): { index: number; p: number }[] | undefined {
    if (outputs.length !== 1) return undefined;
    const o = outputs[0]!;
    if (o.shape.filter((d) => d > 1).length !== 1 || typeof (o.data as unknown[]).flat(Infinity)[0] !== 'number') return undefined;
    const v = numbers(o);
    const probabilities = v.every((x) => x >= 0 && x <= 1) && Math.abs(v.reduce((a, b) => a + b, 0) - 1) < 0.01;
    let p = v;
    if (!probabilities) {
      const max = Math.max(...v);
      const e = v.map((x) => Math.exp(x - max));
      const sum = e.reduce((a, b) => a + b, 0);
      p = e.map((x) => x / sum);
    }
    return p.map((x, index) => ({ index, p: x })).sort((a, b) => b.p - a.p).slice(0, k);
  }

  function drawBoxes(img: HTMLImageElement, boxes: Box[]): void {
    const canvas = $<HTMLCanvasElement>('try-canvas');
    const scale = Math.min(1, 640 / img.naturalWidth);
    canvas.width = Math.round(img.naturalWidth * scale);
    canvas.height = Math.round(img.naturalHeight * scale);
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 2;
    ctx.font = '12px system-ui, sans-serif';
    boxes.forEach((b, i) => {
      const color = COLORS[i % COLORS.length]!;
      const x = b.x1 * canvas.width;
      const y = b.y1 * canvas.height;
      ctx.strokeStyle = color;
      ctx.strokeRect(x, y, (b.x2 - b.x1) * canvas.width, (b.y2 - b.y1) * canvas.height);
      const label = `${b.label} ${(b.score * 100).toFixed(0)}%`;
      ctx.fillStyle = color;
      ctx.fillRect(x, Math.max(0, y - 14), ctx.measureText(label).width + 6, 14);
      ctx.fillStyle = '#fff';
      ctx.fillText(label, x + 3, Math.max(11, y - 3));
    });
    canvas.hidden = false;
  }

  // ---- start ----

  $('try-form').addEventListener('submit', (event) => void runTry(event));
  $('api-key-save').addEventListener('click', () => {
    apiKey = $<HTMLInputElement>('api-key').value;
    sessionStorage.setItem('tsms-api-key', apiKey);
    $('auth').hidden = true;
    void refreshState();
  });

  async function tick(): Promise<void> {
    await refreshState();
    await refreshMetrics();
    setTimeout(() => void tick(), POLL_MS);
  }
  void tick();
}
