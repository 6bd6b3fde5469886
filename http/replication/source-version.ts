import type { MiddlewareStack } from '@smithy/types';
import { SOURCE_VERSION_HEADER } from '../s3/replica.js';

/**
 * Marks a write to a destination with the source's version id (SOURCE_VERSION_HEADER): a hangar
 * destination stores the replica (or delete marker) under it, as AWS's replicas keep their
 * source's ids; other peers ignore it. The null version (written while versioning was
 * suspended) has no id to carry.
 */
export function withSourceVersion<
  C extends { middlewareStack: { add: (...args: never[]) => void } },
>(command: C, versionId: string): C {
  if (versionId === 'null') return command;
  // Each command's stack has its own input and output types; this step only reads the request.
  const stack = command.middlewareStack as unknown as MiddlewareStack<object, object>;
  stack.add(
    (next) => (args) => {
      const request = args.request as { headers: Record<string, string> };
      request.headers[SOURCE_VERSION_HEADER] = versionId;
      return next(args);
    },
    { step: 'build', name: 'hangarSourceVersion' },
  );
  return command;
}
