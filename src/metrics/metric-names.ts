/**
 * OVMS's metric family names (docs/metrics.md) and which of them `--metrics_list` /
 * `monitoring.metrics.metrics_list` may name.
 */

export const METRIC = {
  REQUESTS_SUCCESS: 'ovms_requests_success',
  REQUESTS_FAIL: 'ovms_requests_fail',
  REQUEST_TIME: 'ovms_request_time_us',
  INFERENCE_TIME: 'ovms_inference_time_us',
  WAIT_FOR_INFER_REQ_TIME: 'ovms_wait_for_infer_req_time_us',
  STREAMS: 'ovms_streams',
  CURRENT_REQUESTS: 'ovms_current_requests',
  INFER_REQ_QUEUE_SIZE: 'ovms_infer_req_queue_size',
  INFER_REQ_ACTIVE: 'ovms_infer_req_active',
} as const;

export type MetricFamilyName = (typeof METRIC)[keyof typeof METRIC];

/** Enabled by `--metrics_enable` alone. */
export const DEFAULT_METRICS: readonly MetricFamilyName[] = [
  METRIC.STREAMS, METRIC.CURRENT_REQUESTS, METRIC.REQUESTS_SUCCESS, METRIC.REQUESTS_FAIL,
  METRIC.REQUEST_TIME, METRIC.INFERENCE_TIME, METRIC.WAIT_FOR_INFER_REQ_TIME,
];

/** Only when listed. */
export const OPTIONAL_METRICS: readonly MetricFamilyName[] = [METRIC.INFER_REQ_QUEUE_SIZE, METRIC.INFER_REQ_ACTIVE];

/**
 * OVMS's MediaPipe-graph families. A config written for OVMS may list them; tsms has no MediaPipe
 * graphs, so they are accepted (not an error) and simply never have series.
 */
export const MEDIAPIPE_METRICS: readonly string[] = [
  'ovms_current_graphs', 'ovms_requests_accepted', 'ovms_requests_rejected', 'ovms_responses',
];

/** OVMS's text (status INVALID_METRICS_FAMILY_NAME); the server refuses to start with it. */
export const INVALID_METRICS_LIST = 'Invalid name in metrics_list';

export class MetricsConfigError extends Error {
  override readonly name = 'MetricsConfigError';
}

/** The families to serve: the default set, or exactly the listed ones. Unknown names throw. */
export function enabledFamilies(list: readonly string[] | undefined): Set<MetricFamilyName> {
  if (!list || list.length === 0) return new Set(DEFAULT_METRICS);
  const known = new Set<string>([...DEFAULT_METRICS, ...OPTIONAL_METRICS]);
  const out = new Set<MetricFamilyName>();
  for (const name of list) {
    if (known.has(name)) out.add(name as MetricFamilyName);
    else if (!MEDIAPIPE_METRICS.includes(name)) throw new MetricsConfigError(`${INVALID_METRICS_LIST}: ${name}`);
  }
  return out;
}
