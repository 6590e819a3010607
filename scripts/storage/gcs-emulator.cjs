// Runs the Cloud Storage emulator of firebase-tools (a Google-written implementation of the GCS
// JSON API) without its Java rules runtime, which the GCS JSON API path does not use and which
// would need Java 21 and a JAR download. Uses firebase-tools internals: keep its version pinned.
//   PORT=9199 TMPDIR=$(mktemp -d) [GCS_DATA_DIR=dir] node scripts/storage/gcs-emulator.cjs
// Prints "GCS emulator listening on http://127.0.0.1:PORT" when ready. Objects live under
// $TMPDIR/firebase/storage; give each run its own TMPDIR. The emulator keeps object metadata in
// memory only: with GCS_DATA_DIR set, its content is exported there on SIGTERM/SIGINT and imported
// again at the next start (as `firebase emulators:start --import … --export-on-exit` would).
const fs = require('node:fs');
const path = require('node:path');
const { StorageEmulator } = require('firebase-tools/lib/emulator/storage');
const { createApp } = require('firebase-tools/lib/emulator/storage/server');
const { EmulatorRegistry } = require('firebase-tools/lib/emulator/registry');

const port = Number(process.env.PORT || 9199);
const projectId = process.env.GCS_PROJECT || 'demo-tsms';
const dataDir = process.env.GCS_DATA_DIR;

async function main() {
  const emulator = new StorageEmulator({ projectId, host: '127.0.0.1', port, auto_download: false });
  // The request handlers look the emulator's own address up in this registry.
  EmulatorRegistry.set('storage', emulator);
  if (dataDir && fs.existsSync(path.join(dataDir, 'buckets.json'))) emulator.storageLayer.import(dataDir, { initiatedBy: 'start' });
  const app = await createApp(projectId, emulator);
  const server = app.listen(port, '127.0.0.1', () => console.log(`GCS emulator listening on http://127.0.0.1:${port}`));
  const stop = async () => {
    server.close();
    server.closeAllConnections();
    if (dataDir) {
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.mkdirSync(dataDir, { recursive: true });
      await emulator.storageLayer.export(dataDir, { initiatedBy: 'exit' });
    }
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
