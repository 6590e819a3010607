/**
 * A JSON-decode worker thread: runs the TFS REST fast scanner (rest-fast-json.ts) on request
 * bodies the pool shares with it, writing the values into the room the job brought, and
 * transfers the result back. It holds no state between jobs, so a crashed worker is simply
 * replaced.
 */
import { parentPort } from 'node:worker_threads';
import { parsePredictBodyFast } from './rest-fast-json.js';
import type { DecodeJob, DecodeReply } from './json-decode-messages.js';

const port = parentPort;
if (!port) throw new Error('json-decode-worker must run as a worker thread');

port.on('message', (job: DecodeJob) => {
  let reply: DecodeReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const fast = parsePredictBodyFast(new Uint8Array(job.body, 0, job.length), [job.spec], job.room);
    if (!fast) {
      reply = { id: job.id, kind: 'not-fast', ...(job.room && { room: job.room }) };
    } else {
      const data = fast.tensor.data as Float32Array | Float64Array;
      // The room went unused when the values outgrew it; it goes back all the same.
      const spare = job.room && data.buffer !== job.room ? job.room : undefined;
      reply = { id: job.id, kind: 'tensor', format: fast.format, shape: [...fast.tensor.shape], data, ...(spare && { room: spare }) };
      transfer.push(data.buffer as ArrayBuffer);
    }
  } catch (err) {
    reply = { id: job.id, kind: 'failed', message: err instanceof Error ? err.message : String(err), ...(job.room && { room: job.room }) };
  }
  if (reply.room) transfer.push(reply.room);
  port.postMessage(reply, transfer);
});
