/**
 * Test PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1/localhost, a client
 * certificate from the same CA, and a second, unrelated CA with its own client certificate.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface TestPki {
  readonly dir: string;
  /** Paths of the PEM files. */
  readonly files: {
    readonly ca: string; readonly serverCert: string; readonly serverKey: string;
    readonly clientCert: string; readonly clientKey: string;
    readonly otherCa: string; readonly otherClientCert: string; readonly otherClientKey: string;
  };
  /** The same files' contents. */
  read(name: keyof TestPki['files']): Buffer;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

function makeLeaf(dir: string, name: string, ca: string, extensions: string): void {
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
}

/** Writes the PKI into `dir` (a temp folder the caller removes). */
export function makeTestPki(dir: string): TestPki {
  makeCa(dir, 'ca');
  makeLeaf(dir, 'server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  makeLeaf(dir, 'client', 'ca', 'extendedKeyUsage=clientAuth\n');
  makeCa(dir, 'other-ca');
  makeLeaf(dir, 'other-client', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  const p = (f: string) => path.join(dir, f);
  const files = {
    ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'),
    clientCert: p('client.pem'), clientKey: p('client.key'),
    otherCa: p('other-ca.pem'), otherClientCert: p('other-client.pem'), otherClientKey: p('other-client.key'),
  };
  return { dir, files, read: (name) => readFileSync(files[name]) };
}
