import {
  type S3Client,
  SelectObjectContentCommand,
  type SelectObjectContentCommandInput,
} from '@aws-sdk/client-s3';

/** What a Select answered, as the SDK decoded its event stream. */
export interface Selected {
  records: string;
  stats: { scanned: number; processed: number; returned: number } | null;
  progress: number;
  conts: number;
  ended: boolean;
}

/** Runs a Select through the SDK, which decodes the event stream and checks each CRC. */
export async function selectWith(
  s3: S3Client,
  input: Omit<SelectObjectContentCommandInput, 'ExpressionType'>,
): Promise<Selected> {
  const out = await s3.send(new SelectObjectContentCommand({ ExpressionType: 'SQL', ...input }));
  const result: Selected = { records: '', stats: null, progress: 0, conts: 0, ended: false };
  for await (const event of out.Payload ?? []) {
    if (event.Records?.Payload !== undefined)
      result.records += Buffer.from(event.Records.Payload).toString();
    if (event.Stats?.Details !== undefined) {
      const d = event.Stats.Details;
      result.stats = {
        scanned: d.BytesScanned ?? -1,
        processed: d.BytesProcessed ?? -1,
        returned: d.BytesReturned ?? -1,
      };
    }
    if (event.Progress !== undefined) result.progress++;
    if (event.Cont !== undefined) result.conts++;
    if (event.End !== undefined) result.ended = true;
  }
  return result;
}
