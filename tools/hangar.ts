#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError, describeConfig, type HangarConfig, tlsFilesOf } from '../engine/config.js';
import { LayoutError } from '../engine/layout.js';
import { createLogger, type Logger, resolveLogSettings } from '../engine/log.js';
import type { startServer } from '../http/server.js';
import { PortLostError } from '../http/uws/listen.js';
import { registerBuckets } from './buckets.js';
import { configFrom, EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, runCommand } from './cli.js';
import { registerCluster } from './cluster-cli.js';
import { registerDoctor, startupChecks } from './doctor/command.js';
import { registerFsck } from './fsck-cli.js';
import { registerKeys } from './keys.js';
import { registerKms } from './kms.js';
import { registerMaintenance } from './maintenance.js';
import { registerNotify } from './notify.js';
import { reloadOnSighup } from './reload.js';
import { registerRemotes } from './remotes.js';

/** A running server. Only `hangar server` loads the server's modules (see runServer). */
type RunningServer = Awaited<ReturnType<typeof startServer>>;

/**
 * The `hangar` command: runs the server and administers the catalog (keys, buckets, grants).
 * Exit codes: 0 ok, 1 operation error, 2 usage or configuration error.
 */

// ---- server ----

interface ServerOptions {
  s3Host?: string;
  s3Port?: string;
  webHost?: string;
  webPort?: string;
  adminHost?: string;
  adminPort?: string;
  shards?: string;
  edgeThreads?: string;
  durability?: string;
  logLevel?: string;
  logFormat?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  s3AllowSseCOverHttp?: string;
  s3SignatureV2?: string;
}

/**
 * What a person needs to point a client at the server, once every port listens: after the
 * human log lines on stdout, or on stderr when stdout carries JSON lines for machines.
 */
function printBanner(server: RunningServer, config: HangarConfig, out: NodeJS.WriteStream): void {
  const fromEnv = config.rootAccessKey !== null;
  const secret = fromEnv ? '(from HANGAR_ROOT_SECRET_KEY)' : server.rootKey.secretAccessKey;
  out.write(
    `\nhangar is serving S3 at ${server.endpoint} (region ${config.s3.region})\n` +
      `  AWS_ACCESS_KEY_ID=${server.rootKey.accessKeyId}\n` +
      `  AWS_SECRET_ACCESS_KEY=${secret}\n` +
      `  e.g. aws --endpoint-url ${server.endpoint} s3 ls\n` +
      `hangar is serving websites at ${server.webEndpoint} (Host: <bucket>.${config.web.rootDomains[0] ?? '<root domain>'})\n` +
      `hangar is serving the admin API at ${server.adminEndpoint}${config.admin.adminToken === null ? ' (local only: the hangar CLI on this machine needs no token)' : ''}\n\n`,
  );
}

/** Serves the certificate and key files anew; on failure the old ones stay, and it says why. */
async function reloadTls(server: RunningServer, logger: Logger): Promise<void> {
  try {
    logger.info({ certificate: await server.reloadTls() }, 'TLS certificate reloaded');
  } catch (error) {
    if (error instanceof PortLostError) {
      // Serving on fewer ports than configured helps no one: let a service manager restart us.
      logger.fatal({ err: error }, 'TLS certificate reload lost a port');
      await server.halt();
      process.exit(EXIT_FAILED);
    }
    logger.error({ err: error }, 'TLS certificate reload failed: still serving the old one');
  }
}

async function runServer(command: Command): Promise<void> {
  const opts = command.opts<ServerOptions>();
  const load = (): HangarConfig =>
    configFrom(command, {
      's3-host': opts.s3Host,
      's3-port': opts.s3Port,
      'web-host': opts.webHost,
      'web-port': opts.webPort,
      'admin-host': opts.adminHost,
      'admin-port': opts.adminPort,
      shards: opts.shards,
      'edge-threads': opts.edgeThreads,
      durability: opts.durability,
      'log-level': opts.logLevel,
      'log-format': opts.logFormat,
      'tls-cert-file': opts.tlsCertFile,
      'tls-key-file': opts.tlsKeyFile,
      's3-allow-sse-c-over-http': opts.s3AllowSseCOverHttp,
      's3-signature-v2': opts.s3SignatureV2,
    });
  let config: HangarConfig;
  try {
    config = load();
  } catch (error) {
    process.exit(fail(error));
  }
  // Block writes, fsyncs and reads of every shard share libuv's one thread pool (4 threads by
  // default); it must be sized before its first use.
  process.env['UV_THREADPOOL_SIZE'] ??= '32';
  const logSettings = resolveLogSettings(config.logLevel, config.logFormat);
  const logger = createLogger(logSettings);
  logger.info({ config: describeConfig(config) }, 'starting hangar');
  if (!startupChecks(config, logger)) process.exit(EXIT_USAGE);
  let server: RunningServer;
  try {
    // Loaded here, not at the top: every other command (the CLI a script or a test runs many
    // times) would otherwise pay for loading the whole server, about half its start-up CPU.
    const { startServer } = await import('../http/server.js');
    server = await startServer(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'server failed to start');
    process.exit(
      error instanceof ConfigError || error instanceof LayoutError ? EXIT_USAGE : EXIT_FAILED,
    );
  }
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without a clean stop');
      void server.halt().finally(() => process.exit(EXIT_FAILED));
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping hangar');
    server.stop().then(
      () => {
        logger.info('stopped');
        process.exit(EXIT_OK);
      },
      (error: unknown) => {
        logger.fatal({ err: error }, 'clean stop failed');
        process.exit(EXIT_FAILED);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // SIGHUP rereads the configuration (log level) and the TLS certificate and key (renewals).
  reloadOnSighup(config, {
    logger,
    load,
    reloadTls: tlsFilesOf(config) === null ? null : () => void reloadTls(server, logger),
  });
  // Runs every bucket's lifecycle rules now (until an admin API offers it).
  process.on('SIGUSR2', () => {
    server.runLifecycleNow().catch(() => undefined);
  });
  // Last: whoever waits for the banner (a person, a test) may signal at once and get a clean stop.
  printBanner(server, config, logSettings.format === 'json' ? process.stderr : process.stdout);
}

// ---- the program ----

function buildProgram(): Command {
  const program = new Command('hangar')
    .description('A fast S3-compatible object store for one machine')
    .option('-c, --config <file>', 'TOML configuration file (default: ./hangar.toml if present)')
    .option('--data-dir <dir>', 'data directory (overrides the configuration)')
    .option(
      '--admin-token <token>',
      "a running server's admin token (default: HANGAR_ADMIN_TOKEN, admin.admin_token, else <data dir>/admin.token)",
    )
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  /** Adds a leaf command that supports --json. */
  const leaf = (parent: Command, spec: string, description: string): Command =>
    parent.command(spec).description(description).option('--json', 'print one JSON document');

  program
    .command('server')
    .description('run the S3 server')
    .option('--s3-host <host>', 'address to listen on')
    .option('--s3-port <port>', 'port to listen on')
    .option('--web-host <host>', 'address of the static website endpoint')
    .option('--web-port <port>', 'port of the static website endpoint (0: any free port)')
    .option('--admin-host <host>', 'address of the admin API (metrics, health)')
    .option('--admin-port <port>', 'port of the admin API (0: any free port)')
    .option('--shards <n>', "number of shards (1..256 or 'auto'; fixed at first start)")
    .option('--edge-threads <n>', "threads serving the S3 and website ports (1..256 or 'auto')")
    .option('--durability <mode>', 'fsync | relaxed')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent')
    .option('--log-format <format>', 'auto (human on a terminal, else JSON) | json | pretty')
    .option('--tls-cert-file <file>', 'PEM certificate (chain) every port serves over TLS')
    .option('--tls-key-file <file>', 'PEM private key of --tls-cert-file')
    .option(
      '--s3-allow-sse-c-over-http <bool>',
      'accept SSE-C on a plain-HTTP S3 port (behind a TLS-terminating proxy only)',
    )
    .option('--s3-signature-v2 <bool>', 'accept AWS Signature Version 2 (default true)')
    .action((_opts: unknown, command: Command) => runServer(command));

  registerKeys(program);
  registerBuckets(program);

  registerMaintenance(program, { leaf, run: runCommand });
  registerKms(program, { leaf, run: runCommand });
  registerRemotes(program, { leaf, run: runCommand });
  registerNotify(program, { leaf, run: runCommand });
  registerDoctor(program, { leaf, run: runCommand });
  registerCluster(program, { leaf, run: runCommand });

  registerFsck(program, { leaf, run: runCommand });

  return program;
}

async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; every other parse error is a usage error.
      process.exitCode = error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
      return;
    }
    process.exitCode = fail(error);
  }
}

await main(process.argv);
