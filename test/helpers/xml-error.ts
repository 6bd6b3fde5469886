/** Status, code and (unescaped) message of an S3 XML error answer read with fetch. */
export async function errorOf(
  response: Response,
): Promise<{ status: number; code: string; message: string }> {
  const text = await response.text();
  return {
    status: response.status,
    code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? '',
    message: unescapeXml(/<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? ''),
  };
}

function unescapeXml(text: string): string {
  const entities: Record<string, string> = { quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' };
  return text.replace(/&(quot|apos|lt|gt|amp);/g, (_, name: string) => entities[name] ?? '');
}
