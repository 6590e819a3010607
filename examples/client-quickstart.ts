/**
 * The tsms client library in a few lines, against the built-in repository (`npm run serve-default`:
 * gRPC :9000, REST :8000): status, metadata and an inference with the `dummy` model over each of
 * the four protocol/transport pairs.
 *
 *   node dist/examples/client-quickstart.js [grpc-address] [rest-address]
 */
import { createClient, tensor, type Protocol } from '../src/client/index.js';

const grpcAddress = process.argv[2] ?? 'localhost:9000';
const restAddress = process.argv[3] ?? 'localhost:8000';

for (const protocol of ['tfs', 'kserve'] as Protocol[]) {
  for (const transport of ['grpc', 'rest'] as const) {
    const client = createClient({ protocol, transport, address: transport === 'grpc' ? grpcAddress : restAddress, timeoutMs: 5000 });
    const [status] = await client.status('dummy');
    const meta = await client.metadata('dummy');
    const b = tensor('FP32', [1, 10], Float32Array.from({ length: 10 }, (_, i) => i));
    const result = await client.infer('dummy', { b });
    const a = result.outputs['a']!;
    console.log(`${protocol} ${transport}: dummy v${status?.version} ${status?.state}; ` +
      `inputs ${meta.inputs.map((i) => `${i.name} ${i.dtype}[${i.shape}]`).join(', ')}; ` +
      `a = ${a.dtype}[${a.shape}] ${Array.from(a.data as Float32Array).join(' ')}`);
    client.close();
  }
}
