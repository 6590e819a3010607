/**
 * Model repositories on Google Cloud Storage: firebase-tools' Cloud Storage emulator (Google's own
 * implementation of the GCS JSON API) and the real server. The emulator checks no credentials and
 * lists a missing bucket as empty; storage-gcs-recorded.test.ts covers real GCS's answers there.
 */
import { storageScenarios } from './helpers/storage-scenarios.js';
import { gcsEmulatorSkipReason, startGcsEmulator } from './helpers/storage-servers.js';

storageScenarios('gs:// model repository (Cloud Storage emulator)', {
  skip: gcsEmulatorSkipReason(),
  start: () => startGcsEmulator(),
  // The emulator answers a missing bucket with an empty listing, not real GCS's 404.
  missingBucketText: /Directory does not exist: gs:\/\/no-such-bucket-tsms\/dummy/,
});
