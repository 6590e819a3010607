/** Model repositories on S3: a real S3 implementation (Ceph RADOS Gateway) and the real server. */
import { storageScenarios } from './helpers/storage-scenarios.js';
import { rgwSkipReason, startRgw } from './helpers/storage-servers.js';

storageScenarios('s3:// model repository (Ceph RGW)', {
  skip: rgwSkipReason(),
  start: () => startRgw(),
  missingBucketText: /Bucket \\?"no-such-bucket-tsms\\?" does not exist at S3 endpoint http:\/\/127\.0\.0\.1:\d+ \(NoSuchBucket 404\)/,
  wrongSecretText: /wrong secret key \(AWS_SECRET_ACCESS_KEY\) \(SignatureDoesNotMatch 403\)/,
});
