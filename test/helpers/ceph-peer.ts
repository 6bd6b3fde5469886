import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BLOCK_POOL } from '../../engine/blocks/rados/rados-block-store.js';
import { freePort } from './daemon.js';

const SCRIPT = fileURLToPath(new URL('../../../test/peers/ceph-rgw.sh', import.meta.url));
/** test/peers/ceph-rgw.sh's monitor: one port, so one Ceph peer at a time (cluster tests run
 *  one file at a time). */
const MON_PORT = 6789;

/**
 * A one-node Ceph for the cluster tests (test/peers/ceph-rgw.sh: one mon on 127.0.0.1:6789, one
 * memstore OSD; from the Debian packages ceph-mon ceph-osd ceph-common) with the block pool made.
 * `stop()` stops its daemons, then removes its directory.
 */
export class CephPeer {
  private constructor(
    private readonly dir: string,
    private readonly env: Record<string, string>,
  ) {}

  get confPath(): string {
    return join(this.dir, 'cluster', 'ceph.conf');
  }

  static async start(): Promise<CephPeer> {
    const dir = mkdtempSync(join(tmpdir(), 'hangar-ceph-'));
    const env = {
      PATH: process.env['PATH'] ?? '',
      CEPH_DIR: join(dir, 'cluster'),
      PORT: String(await freePort()),
      MON_PORT: String(MON_PORT),
    };
    const peer = new CephPeer(dir, env);
    try {
      await peer.run('bash', [SCRIPT, 'start']);
      await peer.ceph('osd', 'pool', 'create', DEFAULT_BLOCK_POOL, '8');
      await peer.ceph('osd', 'pool', 'application', 'enable', DEFAULT_BLOCK_POOL, 'hangar');
    } catch (error) {
      await peer.stop();
      throw error;
    }
    return peer;
  }

  ceph(...args: string[]): Promise<string> {
    return this.run('ceph', ['-c', this.confPath, ...args]);
  }

  /** Overwrites a RADOS object with other bytes, as an operator (or a bug) could. */
  async overwrite(namespace: string, oid: string, bytes: Buffer): Promise<void> {
    const file = join(this.dir, `${oid}.tampered`);
    writeFileSync(file, bytes);
    await this.run('rados', [
      '-c',
      this.confPath,
      '-p',
      DEFAULT_BLOCK_POOL,
      '-N',
      namespace,
      'put',
      oid,
      file,
    ]);
  }

  async stop(): Promise<void> {
    try {
      await this.run('bash', [SCRIPT, 'stop']);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private run(command: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        command,
        args,
        { env: this.env, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error !== null) {
            reject(new Error(`${command} ${args[0]}: ${error.message}\n${stderr}`));
          } else resolve(stdout);
        },
      );
    });
  }
}
