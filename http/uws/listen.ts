import type { ListenOptions, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { assert } from '../../engine/assert.js';
import { ConfigError, type TlsFiles } from '../../engine/config.js';
import { LIMITS } from '../../engine/limits.js';
import type { Uws } from './load.js';

/**
 * The listening side of one port: a uWS app (plain, or SSLApp when TLS is configured) and its
 * listen socket.
 *
 * The admin port is bound exclusively (no SO_REUSEPORT). uSockets otherwise sets SO_REUSEPORT on
 * an explicit port, so a second hangar (or any process of the same user) started on the same port
 * binds it too and the kernel silently splits the connections between the two. The S3 and website
 * ports are the exception: the edge threads share them on purpose (`shared`, `claimPort`).
 *
 * With TLS, `reloadCertificate` swaps the certificate without dropping a connection: in one
 * synchronous turn the old listen socket closes and a new SSLApp with the new files listens on
 * the same port (uSockets sets SO_REUSEADDR, so the port's open connections do not block the
 * bind). Connections the old app accepted keep running on it, with the old certificate, until
 * they end; new ones get the new. Only a connection arriving in the microseconds between the
 * close and the listen, or waiting unaccepted in the old socket's backlog, is refused, as it
 * would be with an SO_REUSEPORT overlap too (Linux drops a closed listener's backlog).
 *
 * TLS versions: uSockets sets the minimum to TLS 1.2 in every SSL context it makes (no option
 * lowers it), so TLS 1.0/1.1 handshakes fail with a protocol_version alert.
 */

/** What the logs and the CLI say about the certificate a port serves. */
export interface CertificateInfo {
  readonly subject: string;
  readonly serialNumber: string;
  readonly validTo: string;
  /** SHA-256 of the DER certificate, colon-separated hex (as X509Certificate.fingerprint256). */
  readonly fingerprint256: string;
}

/** A reload could neither listen anew nor listen again with the old app: the port is gone. */
export class PortLostError extends Error {
  override name = 'PortLostError';
}

export interface ListenerSpec {
  /** For error messages and logs: 'S3', 'website', 'admin'. */
  readonly name: string;
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  readonly tls: TlsFiles | null;
  /**
   * Listen beside the other edge threads (SO_REUSEPORT: the kernel spreads connections among
   * them) on a port the main thread claimed exclusively first (`claimPort`); a named port only.
   */
  readonly shared?: boolean;
  /** Registers the routes; called again on every app a certificate reload makes. */
  readonly mount: (app: TemplatedApp) => void;
}

export class Listener {
  /**
   * Apps replaced by a reload, kept referenced so that garbage collection never takes an app
   * whose connections are still open: each reload keeps one app and SSL context until exit.
   */
  private readonly retired: TemplatedApp[] = [];

  private constructor(
    private readonly uws: Uws,
    private readonly spec: ListenerSpec,
    private app: TemplatedApp,
    private socket: us_listen_socket,
    /** The bound port (the chosen one when the spec asked for 0). */
    readonly port: number,
    private served: CertificateInfo | null,
  ) {}

  static open(uws: Uws, spec: ListenerSpec): Listener {
    const certificate = spec.tls === null ? null : readCertificate(spec.tls);
    const app = createApp(uws, spec);
    const socket =
      spec.shared === true
        ? listenNow(app, spec.host, spec.port, SHARED_PORT)
        : listenOnNamedPort(uws, app, spec.host, spec.port);
    if (socket === null) {
      throw new Error(
        `hangar: cannot listen on ${spec.host}:${spec.port} for ${spec.name} (address in use?)`,
      );
    }
    return new Listener(uws, spec, app, socket, uws.us_socket_local_port(socket), certificate);
  }

  get scheme(): 'http' | 'https' {
    return this.spec.tls === null ? 'http' : 'https';
  }

  /** The base URL as the start-up lines print it. */
  get endpoint(): string {
    return `${this.scheme}://${this.spec.host}:${this.port}`;
  }

  /** The certificate new connections get; null without TLS. */
  get certificate(): CertificateInfo | null {
    return this.served;
  }

  /**
   * Rereads the certificate and key files and serves them to new connections. Throws, leaving
   * the current certificate served, when the files are unreadable or do not match.
   */
  reloadCertificate(): CertificateInfo {
    const files = this.spec.tls;
    if (files === null) throw new Error(`the ${this.spec.name} port does not serve TLS`);
    const certificate = readCertificate(files);
    const app = createApp(this.uws, this.spec);
    const socket = this.takeOverPort(app);
    this.retired.push(this.app);
    this.app = app;
    this.socket = socket;
    this.served = certificate;
    return certificate;
  }

  /**
   * Closes the old listen socket and listens with `app` on the same port, synchronously (uWS
   * calls back within listen). Should the port be taken in between, the old app listens again.
   */
  private takeOverPort(app: TemplatedApp): us_listen_socket {
    this.uws.us_listen_socket_close(this.socket);
    const options = this.spec.shared === true ? SHARED_PORT : EXCLUSIVE_PORT;
    const replacing = listenNow(app, this.spec.host, this.port, options);
    if (replacing !== null) return replacing;
    const restored = listenNow(this.app, this.spec.host, this.port, options);
    if (restored === null) {
      throw new PortLostError(
        `hangar: lost the ${this.spec.name} port ${this.port} during a TLS reload`,
      );
    }
    this.socket = restored;
    throw new Error(`hangar: cannot listen again on ${this.spec.host}:${this.port}`);
  }

  /** Closes the listen socket: new connections are refused; open ones go on. */
  close(): void {
    this.uws.us_listen_socket_close(this.socket);
  }

  /**
   * Closes every connection the port's apps still hold, idle keep-alive ones included (uWS.js
   * 20.30's native `App.close()`, missing from its typings; it closes the app's socket context).
   */
  closeConnections(): void {
    for (const app of [...this.retired, this.app]) (app as unknown as ClosableApp).close();
  }
}

/** uWS.js 20.30's native apps have `close()`; its typings do not list it. */
interface ClosableApp {
  close(): void;
}

/**
 * Opens every listener in order; when one fails, closes those already open and rethrows, so a
 * failed start leaves no port bound.
 */
export function openListeners(uws: Uws, specs: readonly ListenerSpec[]): Listener[] {
  const opened: Listener[] = [];
  try {
    for (const spec of specs) opened.push(Listener.open(uws, spec));
  } catch (error) {
    for (const listener of opened) listener.close();
    throw error;
  }
  return opened;
}

function createApp(uws: Uws, spec: ListenerSpec): TemplatedApp {
  let app: TemplatedApp;
  if (spec.tls === null) {
    app = uws.App();
  } else {
    try {
      app = uws.SSLApp({
        cert_file_name: spec.tls.certFile,
        key_file_name: spec.tls.keyFile,
        // Frees a connection's TLS buffers while it is idle (~34 KiB each): idle keep-alive
        // connections then cost what they cost over plain HTTP.
        ssl_prefer_low_memory_usage: true,
      });
    } catch (error) {
      // uWS says only "App construction failed"; the files were checked a moment ago.
      throw new ConfigError(
        `config: tls.cert_file ${spec.tls.certFile} and tls.key_file ${spec.tls.keyFile} ` +
          `were refused by the TLS library (${(error as Error).message})`,
      );
    }
  }
  spec.mount(app);
  return app;
}

/** uWS.js accepts (host, port, options, callback) though its typings only list (port, options, ...). */
type ListenWithOptions = (
  host: string,
  port: number,
  options: ListenOptions,
  callback: (socket: us_listen_socket | false) => void,
) => TemplatedApp;

/** LIBUS_LISTEN_EXCLUSIVE_PORT: no SO_REUSEPORT (see the top of this file). */
const EXCLUSIVE_PORT = 1 as ListenOptions;
/** LIBUS_LISTEN_DEFAULT: SO_REUSEPORT, for the edge threads sharing a port. */
const SHARED_PORT = 0 as ListenOptions;

/**
 * Makes sure `port` (or a free one, when 0) can be listened on by this process alone, and returns
 * it: the edge threads then listen on it together with SO_REUSEPORT. An exclusive listen fails on
 * a port anyone holds (with SO_REUSEPORT or not), so hangar still refuses a port in use; and once
 * the edge threads listen, another process's exclusive probe fails on it too. Only a process that
 * binds with SO_REUSEPORT in the instant between this probe and the edges' listens could join.
 */
export function claimPort(uws: Uws, name: string, host: string, port: number): number {
  const socket = listenOnNamedPort(uws, uws.App(), host, port);
  if (socket === null)
    throw new Error(`hangar: cannot listen on ${host}:${port} for ${name} (address in use?)`);
  const claimed = uws.us_socket_local_port(socket);
  uws.us_listen_socket_close(socket);
  return claimed;
}

/** Listens on host:port, exclusively; null when the port is taken. uWS calls back synchronously. */
/**
 * Listens on `port`, or on a free port when it is 0, always by naming the port. uSockets sets
 * SO_REUSEADDR only on a socket listening on a named port, and connections accepted from a
 * socket without it block a later listen on the same port (EADDRINUSE) while they are open: a
 * TLS reload of a port first chosen with 0 would then lose the port. So a free port is found with
 * a throwaway listener, then listened on by name (tried again should another process take it in
 * between).
 */
function listenOnNamedPort(
  uws: Uws,
  app: TemplatedApp,
  host: string,
  port: number,
): us_listen_socket | null {
  if (port !== 0) return listenNow(app, host, port);
  for (let attempt = 0; attempt < LIMITS.freePortAttempts; attempt++) {
    const probe = listenNow(uws.App(), host, 0);
    if (probe === null) return null;
    const free = uws.us_socket_local_port(probe);
    uws.us_listen_socket_close(probe);
    const socket = listenNow(app, host, free);
    if (socket !== null) return socket;
  }
  return null;
}

function listenNow(
  app: TemplatedApp,
  host: string,
  port: number,
  options: ListenOptions = EXCLUSIVE_PORT,
): us_listen_socket | null {
  let bound: us_listen_socket | false | undefined;
  (app.listen as unknown as ListenWithOptions).call(app, host, port, options, (socket) => {
    bound = socket;
  });
  assert(bound !== undefined, 'uWS listen calls back before it returns');
  return bound === false ? null : bound;
}

/**
 * Reads and checks the PEM files the way the TLS library will, so a mistake is reported with
 * the file and the reason rather than uWS's bare "App construction failed".
 */
export function readCertificate(files: TlsFiles): CertificateInfo {
  const certificatePem = readPem(files.certFile, 'tls.cert_file', 'a PEM certificate');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch (error) {
    throw new ConfigError(
      `config: tls.cert_file ${files.certFile} is not a PEM certificate (${(error as Error).message})`,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(readPem(files.keyFile, 'tls.key_file', 'a PEM private key'));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      `config: tls.key_file ${files.keyFile} is not an unencrypted PEM private key (${(error as Error).message})`,
    );
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new ConfigError(
      `config: tls.key_file ${files.keyFile} is not the private key of tls.cert_file ${files.certFile}`,
    );
  }
  return {
    subject: certificate.subject,
    serialNumber: certificate.serialNumber,
    validTo: certificate.validTo,
    fingerprint256: certificate.fingerprint256,
  };
}

function readPem(file: string, key: string, what: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new ConfigError(`config: ${key} ${file} cannot be read: ${(error as Error).message}`);
  }
  if (!bytes.includes('-----BEGIN '))
    throw new ConfigError(`config: ${key} ${file} is not ${what}`);
  return bytes;
}
