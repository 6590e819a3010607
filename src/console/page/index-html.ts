/** The console page (served at / and /console/). Plain HTML: the script and style are separate URLs, for the CSP. */
export const indexHtml = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>tsms console</title>
  <link rel="stylesheet" href="/console/console.css">
</head>
<body>
  <header>
    <h1>tsms console</h1>
    <span id="readiness" class="badge">…</span>
    <span id="server-line" class="muted"></span>
  </header>

  <div id="auth" hidden>
    <label>API key <input id="api-key" type="password" autocomplete="off"></label>
    <button id="api-key-save" type="button">Use key</button>
    <span class="muted">The server asks for a key (--api_key_file); it stays in this tab only.</span>
  </div>

  <main>
    <section id="models-section">
      <h2>Models</h2>
      <table id="models">
        <thead><tr><th>name</th><th>version</th><th>state</th><th>status</th><th>error</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>

    <section id="traffic-section">
      <h2>Traffic</h2>
      <p id="metrics-off" class="muted" hidden>Start the server with <code>--metrics_enable</code> to chart request rates and latencies (they come from <code>/metrics</code>).</p>
      <div id="charts">
        <figure><figcaption>requests / s</figcaption><canvas id="rate-chart" width="560" height="200"></canvas></figure>
        <figure><figcaption>mean latency (ms)</figcaption><canvas id="latency-chart" width="560" height="200"></canvas></figure>
      </div>
    </section>

    <section id="try-section">
      <h2>Try it</h2>
      <form id="try-form">
        <label>Model <select id="try-model"></select></label>
        <label>File (image or JSON) <input id="try-file" type="file" accept="image/*,.json,application/json"></label>
        <details>
          <summary>Image options</summary>
          <label>Channel order <select id="try-order"><option>BGR</option><option>RGB</option></select></label>
          <label>Mean <input id="try-mean" type="number" value="0" step="any"></label>
          <label>Scale <input id="try-scale" type="number" value="1" step="any"></label>
          <label>Box threshold <input id="try-threshold" type="number" value="0.5" min="0" max="1" step="0.05"></label>
        </details>
        <button id="try-run" type="submit">Run</button>
      </form>
      <div id="try-status" class="muted"></div>
      <div id="try-result">
        <canvas id="try-canvas" hidden></canvas>
        <ol id="try-list"></ol>
        <pre id="try-json" hidden></pre>
      </div>
    </section>

    <section id="config-section">
      <h2>Configuration in force</h2>
      <pre id="config"></pre>
    </section>
  </main>
  <script type="module" src="/console/console.js"></script>
</body>
</html>
`;
