/** What a load generator is asked to do and what it reports, whichever tool runs it. */

export type Transport = 'grpc' | 'http';

export interface LoadSpec {
  readonly transport: Transport;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  readonly path: string;
  /** The complete request body; gRPC bodies are already framed (5-byte prefix). */
  readonly bodyFile: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Requests in flight. */
  readonly concurrency: number;
  /** TCP connections; gRPC defaults to 1 (streams multiplexed), HTTP/1.1 to `concurrency`. */
  readonly connections?: number;
  /** Duration mode ... */
  readonly seconds?: number;
  /** ... or a fixed number of requests. */
  readonly requests?: number;
  /** Per-request timeout for slow scenarios (12 MB JSON). */
  readonly timeoutSeconds?: number;
}

export interface LoadResult {
  /** Which generator produced the numbers (h2load, wrk, h2load-h1, node-h2, node-http). */
  readonly tool: string;
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly reqPerSec: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  /** Response bytes per successful request where the tool reports them (sanity check). */
  readonly responseBytesPerRequest?: number;
}

export interface LoadGenerator {
  readonly name: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}

export const GRPC_HEADERS = { 'content-type': 'application/grpc', te: 'trailers' } as const;
