/**
 * The REST listener: node:http, or node:https when TLS material is given. With a CA, clients must
 * present a certificate it signed (mTLS); the TLS handshake refuses the others before any request.
 */
import http from 'node:http';
import https from 'node:https';
import type { TlsMaterial } from '../security.js';

export function createRestListener(tls: TlsMaterial | undefined, handler: http.RequestListener): http.Server {
  const options = { keepAlive: true, noDelay: true };
  if (!tls) return http.createServer(options, handler);
  return https.createServer({
    ...options,
    cert: tls.cert,
    key: tls.key,
    ...(tls.ca && { ca: tls.ca, requestCert: true, rejectUnauthorized: true }),
  }, handler);
}
