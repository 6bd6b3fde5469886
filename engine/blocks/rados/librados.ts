import { constants } from 'node:os';
import koffi from 'koffi';
import { assert } from '../../assert.js';
import { LIMITS } from '../../limits.js';

/**
 * A binding to librados2's C API (librados.h, Ceph 16.2) through koffi, for cluster mode's
 * block store (issue 19). Nothing blocking runs on the calling thread's event loop:
 * - object I/O (write_full, read, remove, stat) goes through librados' own aio calls, which
 *   queue the operation and return at once; a koffi async call (on koffi's worker threads)
 *   waits for its completion. librados completion callbacks are not used: one that fires
 *   after its thread ended (a shard worker terminated mid-write) crashes the process, while a
 *   pending wait only delays the worker's termination, at most the op timeout (DECISIONS.md);
 * - the calls librados has no aio form of (connect, ioctx create, object listing, shutdown)
 *   run as koffi async calls too.
 * DECISIONS.md says why aio beat plain koffi async calls of the blocking I/O (measured).
 *
 * Each thread that uses the binding loads it once (koffi's function objects belong to the
 * thread that made them: shard workers each get their own).
 */

/** An error librados returned (a negative errno), named by its errno code. */
export class RadosError extends Error {
  override name = 'RadosError';
  constructor(
    /** The librados call that failed. */
    readonly call: string,
    /** The errno (positive). */
    readonly errno: number,
    /** The errno's name: ENOENT, ETIMEDOUT... (`E<number>` for one Node does not name). */
    readonly code: string,
    detail: string,
  ) {
    super(`${call}: ${code}${detail === '' ? '' : ` (${detail})`}`);
  }
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value, name]),
);

/** Turns a librados return value into an error when it is negative; otherwise returns it. */
export function checked(call: string, ret: number, detail = ''): number {
  if (ret >= 0) return ret;
  const errno = -ret;
  throw new RadosError(call, errno, ERRNO_NAMES.get(errno) ?? `E${errno}`, detail);
}

/** Whether `error` is a RadosError of errno name `code`. */
export function isRadosCode(error: unknown, code: string): boolean {
  return error instanceof RadosError && error.code === code;
}

// koffi hands opaque pointers around as External objects: typed aliases keep them apart here.
type Pointer = unknown;
type AsyncCallback = (error: unknown, result: unknown) => void;
interface AsyncFn {
  (...args: unknown[]): unknown;
  async: (...args: unknown[]) => void;
}

interface Api {
  create2: AsyncFn;
  confReadFile: AsyncFn;
  confSet: AsyncFn;
  connect: AsyncFn;
  shutdown: AsyncFn;
  ioctxCreate: AsyncFn;
  ioctxDestroy: AsyncFn;
  setNamespace: AsyncFn;
  createCompletion2: AsyncFn;
  waitForComplete: AsyncFn;
  getReturnValue: AsyncFn;
  release: AsyncFn;
  aioWriteFull: AsyncFn;
  aioRead: AsyncFn;
  aioRemove: AsyncFn;
  aioStat: AsyncFn;
  listOpen: AsyncFn;
  listNext: AsyncFn;
  listClose: AsyncFn;
}

let api: Api | null = null;

/** librados, loaded once per thread (dlopen returns the same library to every thread). */
function lib(): Api {
  if (api !== null) return api;
  const so = koffi.load(LIBRADOS_SONAME);
  const fn = (signature: string): AsyncFn => so.func(signature) as AsyncFn;
  api = {
    create2: fn(
      'int rados_create2(_Out_ void **cluster, const char *clusterName, const char *name, uint64_t flags)',
    ),
    confReadFile: fn('int rados_conf_read_file(void *cluster, const char *path)'),
    confSet: fn('int rados_conf_set(void *cluster, const char *option, const char *value)'),
    connect: fn('int rados_connect(void *cluster)'),
    shutdown: fn('void rados_shutdown(void *cluster)'),
    ioctxCreate: fn('int rados_ioctx_create(void *cluster, const char *pool, _Out_ void **io)'),
    ioctxDestroy: fn('void rados_ioctx_destroy(void *io)'),
    setNamespace: fn('void rados_ioctx_set_namespace(void *io, const char *nspace)'),
    createCompletion2: fn(
      'int rados_aio_create_completion2(void *arg, void *complete, _Out_ void **completion)',
    ),
    waitForComplete: fn('int rados_aio_wait_for_complete(void *completion)'),
    getReturnValue: fn('int rados_aio_get_return_value(void *completion)'),
    release: fn('void rados_aio_release(void *completion)'),
    aioWriteFull: fn(
      'int rados_aio_write_full(void *io, const char *oid, void *completion, const uint8_t *buf, size_t len)',
    ),
    aioRead: fn(
      'int rados_aio_read(void *io, const char *oid, void *completion, void *buf, size_t len, uint64_t off)',
    ),
    aioRemove: fn('int rados_aio_remove(void *io, const char *oid, void *completion)'),
    aioStat: fn(
      'int rados_aio_stat(void *io, const char *oid, void *completion, void *psize, void *pmtime)',
    ),
    listOpen: fn('int rados_nobjects_list_open(void *io, _Out_ void **ctx)'),
    listNext: fn(
      'int rados_nobjects_list_next(void *ctx, _Out_ const char **entry, void *key, void *nspace)',
    ),
    listClose: fn('void rados_nobjects_list_close(void *ctx)'),
  };
  return api;
}

/** librados2's soname (Debian's librados2 package; librados-dev adds the header). */
const LIBRADOS_SONAME = 'librados.so.2';

/** Calls a librados function on koffi's worker threads (one that may block). */
function offThread(fn: AsyncFn, ...args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const done: AsyncCallback = (error, result) => (error ? reject(error) : resolve(result));
    fn.async(...args, done);
  });
}

/**
 * Runs one aio operation: `start` queues it against a fresh completion (librados returns at
 * once), then a koffi worker thread waits for the completion; its return value settles the
 * promise. The completion is released once, whatever happens.
 */
async function aio(call: string, start: (completion: Pointer) => number): Promise<number> {
  const functions = lib();
  const out: Pointer[] = [null];
  checked('rados_aio_create_completion2', functions.createCompletion2(null, null, out) as number);
  const completion = out[0];
  try {
    checked(call, start(completion));
    await offThread(functions.waitForComplete, completion);
    return checked(call, functions.getReturnValue(completion) as number);
  } finally {
    functions.release(completion);
  }
}

/** How to reach a cluster: a ceph.conf (mon host, keyring) and the client's name. */
export interface RadosConnectOptions {
  /** Path of the ceph.conf to read. */
  confPath: string;
  /** The cephx user, `client.<id>` (default client.admin). */
  clientName?: string;
  /** Extra configuration options set after the file is read (librados names). */
  conf?: Readonly<Record<string, string>>;
}

/** One connection to a Ceph cluster (a `rados_t`). */
export class RadosCluster {
  private closed = false;
  private readonly ioctxs = new Set<RadosIoCtx>();

  private constructor(private readonly handle: Pointer) {}

  /** Connects (off the event loop): the bounds on how long librados waits are LIMITS'. */
  static async connect(options: RadosConnectOptions): Promise<RadosCluster> {
    const functions = lib();
    const out: Pointer[] = [null];
    const clientName = options.clientName ?? 'client.admin';
    checked('rados_create2', functions.create2(out, 'ceph', clientName, 0) as number, clientName);
    const handle = out[0];
    try {
      const read = (await offThread(functions.confReadFile, handle, options.confPath)) as number;
      checked('rados_conf_read_file', read, options.confPath);
      for (const [option, value] of Object.entries({ ...boundsConf(), ...options.conf })) {
        checked('rados_conf_set', functions.confSet(handle, option, value) as number, option);
      }
      checked(
        'rados_connect',
        (await offThread(functions.connect, handle)) as number,
        options.confPath,
      );
    } catch (error) {
      await offThread(functions.shutdown, handle);
      throw error;
    }
    return new RadosCluster(handle);
  }

  /** An I/O context on `pool`, in `namespace` ('' = the default namespace). */
  async ioctx(pool: string, namespace = ''): Promise<RadosIoCtx> {
    assert(!this.closed, 'a closed cluster handle opens no ioctx');
    const functions = lib();
    const out: Pointer[] = [null];
    checked(
      'rados_ioctx_create',
      (await offThread(functions.ioctxCreate, this.handle, pool, out)) as number,
      pool,
    );
    const io = new RadosIoCtx(out[0], namespace, (closed) => this.ioctxs.delete(closed));
    functions.setNamespace(out[0], namespace);
    this.ioctxs.add(io);
    return io;
  }

  /** Closes every ioctx and the connection (off the event loop: librados joins its threads). */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const io of [...this.ioctxs]) io.close();
    await offThread(lib().shutdown, this.handle);
  }
}

/** The size and modification time of an object. */
export interface RadosStat {
  bytes: number;
  mtimeMs: number;
}

/** One pool and namespace of a cluster (a `rados_ioctx_t`). Every call is non-blocking. */
export class RadosIoCtx {
  private closed = false;
  /** Operations in flight: close waits for none, so it refuses while any runs. */
  private inFlight = 0;

  constructor(
    private readonly handle: Pointer,
    readonly namespace: string,
    private readonly onClose: (io: RadosIoCtx) => void,
  ) {}

  private async run<T>(work: () => Promise<T>): Promise<T> {
    assert(!this.closed, 'a closed ioctx runs no operation');
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.inFlight--;
    }
  }

  /** Replaces the whole object with `bytes` (librados copies them before this returns). */
  writeFull(oid: string, bytes: Uint8Array): Promise<void> {
    return this.run(async () => {
      await aio(
        'rados_aio_write_full',
        (c) => lib().aioWriteFull(this.handle, oid, c, bytes, bytes.byteLength) as number,
      );
    });
  }

  /**
   * Reads up to `length` bytes from `offset`; fewer when the object ends first. librados fills
   * the buffer from its own thread later, so it is native memory that cannot move, copied out
   * once the read completes.
   */
  read(oid: string, length: number, offset = 0): Promise<Buffer> {
    assert(Number.isSafeInteger(length) && length > 0, 'a read asks for some bytes');
    assert(length <= LIMITS.radosReadBytesMax, 'a read is bounded by radosReadBytesMax');
    return this.run(async () => {
      const native = koffi.alloc('uint8_t', length);
      try {
        const got = await aio(
          'rados_aio_read',
          (c) => lib().aioRead(this.handle, oid, c, native, length, offset) as number,
        );
        assert(got <= length, 'librados reads no more than asked');
        // A copy: the native buffer is freed below.
        return Buffer.from(new Uint8Array(koffi.view(native, got)));
      } finally {
        koffi.free(native);
      }
    });
  }

  remove(oid: string): Promise<void> {
    return this.run(async () => {
      await aio('rados_aio_remove', (c) => lib().aioRemove(this.handle, oid, c) as number);
    });
  }

  /** Size and mtime of an object (ENOENT when there is none). */
  stat(oid: string): Promise<RadosStat> {
    return this.run(async () => {
      const size = koffi.alloc('uint64_t', 1);
      const mtime = koffi.alloc('int64_t', 1);
      try {
        await aio(
          'rados_aio_stat',
          (c) => lib().aioStat(this.handle, oid, c, size, mtime) as number,
        );
        const bytes = Number(koffi.decode(size, 'uint64_t'));
        const seconds = Number(koffi.decode(mtime, 'int64_t'));
        return { bytes, mtimeMs: seconds * 1000 };
      } finally {
        koffi.free(size);
        koffi.free(mtime);
      }
    });
  }

  /**
   * Names of the objects in this namespace, in RADOS' (hash) order, `batch` at a time. Each
   * step of the listing may wait on the OSDs, so each runs off the event loop.
   */
  async *list(): AsyncGenerator<string> {
    assert(!this.closed, 'a closed ioctx lists nothing');
    const functions = lib();
    const out: Pointer[] = [null];
    checked(
      'rados_nobjects_list_open',
      (await offThread(functions.listOpen, this.handle, out)) as number,
    );
    const ctx = out[0];
    this.inFlight++;
    try {
      for (;;) {
        const entry: (string | null)[] = [null];
        const ret = (await offThread(functions.listNext, ctx, entry, null, null)) as number;
        if (ret === -constants.errno.ENOENT) return;
        checked('rados_nobjects_list_next', ret);
        assert(typeof entry[0] === 'string', 'a listed object has a name');
        yield entry[0];
      }
    } finally {
      this.inFlight--;
      functions.listClose(ctx);
    }
  }

  /** Releases the ioctx. Operations still in flight would use a freed handle: that is a bug. */
  close(): void {
    if (this.closed) return;
    assert(this.inFlight === 0, 'an ioctx closes with no operation in flight');
    this.closed = true;
    lib().ioctxDestroy(this.handle);
    this.onClose(this);
  }
}

/** librados' own timeouts, from LIMITS: no call waits forever on a cluster that is gone. */
function boundsConf(): Record<string, string> {
  const seconds = (ms: number): string => String(Math.ceil(ms / 1000));
  return {
    client_mount_timeout: seconds(LIMITS.radosConnectTimeoutMs),
    rados_mon_op_timeout: seconds(LIMITS.radosOpTimeoutMs),
    rados_osd_op_timeout: seconds(LIMITS.radosOpTimeoutMs),
  };
}
