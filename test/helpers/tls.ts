import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { type AgentOptions, Agent as HttpsAgent } from 'node:https';
import { join } from 'node:path';

/**
 * A throwaway certificate authority made with Debian's `openssl` in `dir`, and server
 * certificates it signs for 127.0.0.1 and localhost, as an operator with a private CA has.
 */
export class TestCa {
  readonly certFile: string;
  private readonly keyFile: string;

  constructor(private readonly dir: string) {
    this.certFile = join(dir, 'ca.pem');
    this.keyFile = join(dir, 'ca.key');
    openssl(
      'req',
      '-x509',
      ...EC_KEY,
      '-nodes',
      '-keyout',
      this.keyFile,
      '-out',
      this.certFile,
      '-days',
      '2',
      '-subj',
      '/CN=hangar test CA',
    );
  }

  /** The CA certificate (PEM), for clients to trust. */
  get pem(): Buffer {
    return readFileSync(this.certFile);
  }

  /** Issues a server certificate `<name>.pem` + `<name>.key` with subject CN=`name`. */
  issue(name: string, serial: number): { certFile: string; keyFile: string } {
    const certFile = join(this.dir, `${name}.pem`);
    const keyFile = join(this.dir, `${name}.key`);
    const request = join(this.dir, `${name}.csr`);
    const extensions = join(this.dir, `${name}.ext`);
    writeFileSync(
      extensions,
      'subjectAltName = IP:127.0.0.1, DNS:localhost, DNS:s3.localhost, DNS:*.web.localhost\n' +
        'basicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n',
    );
    openssl(
      'req',
      ...EC_KEY,
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      request,
      '-subj',
      `/CN=${name}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      request,
      '-CA',
      this.certFile,
      '-CAkey',
      this.keyFile,
      '-set_serial',
      String(serial),
      '-days',
      '2',
      '-extfile',
      extensions,
      '-out',
      certFile,
    );
    return { certFile, keyFile };
  }

  /** An https agent that trusts this CA only. */
  agent(options: AgentOptions = {}): HttpsAgent {
    return new HttpsAgent({ ca: this.pem, ...options });
  }
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
