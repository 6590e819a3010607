/** Model repositories on Azure Blob Storage: azurite (Microsoft's emulator) and the real server. */
import { storageScenarios } from './helpers/storage-scenarios.js';
import { azuriteSkipReason, startAzurite } from './helpers/storage-servers.js';

storageScenarios('az:// model repository (azurite)', {
  skip: azuriteSkipReason(),
  start: () => startAzurite(),
  missingBucketText: /Container \\?"no-such-bucket-tsms\\?" does not exist in Azure Blob Storage account devstoreaccount1 at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1 \(ContainerNotFound 404/,
  wrongSecretText: /the account key or SAS token was refused \(AuthorizationFailure 403/,
});
