// Uploads: each file is one lib-storage Upload (multipart above one part, parts sent in
// parallel), with its progress and an abort that also aborts the multipart upload.
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

/** Bytes per part, and parts in flight per file. */
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 4;
/** Files uploaded at once. */
const FILES_IN_FLIGHT = 3;

export interface UploadItem {
  readonly id: number;
  readonly key: string;
  readonly size: number;
  loaded: number;
  state: 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';
  error?: string;
  cancel: () => void;
}

let nextId = 0;

/** A file picked or dropped, with the path it should take under the current folder. */
export interface PickedFile {
  readonly file: File;
  readonly relativePath: string;
}

/**
 * Uploads `files` under `prefix` into `bucket`, FILES_IN_FLIGHT at a time; `changed` is called
 * on every progress step with the items (mutated in place).
 */
export function startUploads(
  s3: S3Client,
  bucket: string,
  prefix: string,
  files: readonly PickedFile[],
  changed: (items: UploadItem[]) => void,
): UploadItem[] {
  const items: UploadItem[] = [];
  const uploads = new Map<number, Upload>();
  for (const { file, relativePath } of files) {
    const item: UploadItem = {
      id: ++nextId,
      key: `${prefix}${relativePath}`,
      size: file.size,
      loaded: 0,
      state: 'queued',
      cancel: () => {
        if (item.state === 'queued') item.state = 'cancelled';
        void uploads.get(item.id)?.abort();
        changed(items);
      },
    };
    items.push(item);
  }
  const queue = items.map((item, index) => ({ item, file: (files[index] as PickedFile).file }));
  const runOne = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const { item, file } = next;
      if (item.state === 'cancelled') continue;
      item.state = 'uploading';
      const upload = new Upload({
        client: s3,
        params: {
          Bucket: bucket,
          Key: item.key,
          Body: file,
          ContentType: file.type || 'application/octet-stream',
        },
        partSize: PART_BYTES,
        queueSize: PARTS_IN_FLIGHT,
        leavePartsOnError: false,
      });
      uploads.set(item.id, upload);
      upload.on('httpUploadProgress', (progress) => {
        item.loaded = progress.loaded ?? item.loaded;
        changed(items);
      });
      try {
        await upload.done();
        item.loaded = item.size;
        item.state = 'done';
      } catch (error) {
        const name = (error as Error).name;
        item.state = name === 'AbortError' ? 'cancelled' : 'failed';
        if (item.state === 'failed') item.error = (error as Error).message;
      }
      changed(items);
    }
  };
  for (let i = 0; i < FILES_IN_FLIGHT; i++) void runOne();
  changed(items);
  return items;
}
