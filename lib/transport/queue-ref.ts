/** A queue as a handler or `sendToQueue` names it: a bare name, an SQS queue URL or an SQS queue ARN. */
type QueueRef =
  | { kind: 'name'; name: string }
  | { kind: 'url'; name: string; url: string }
  | { kind: 'arn'; name: string; arn: string; account: string; region: string };

const ARN = /^arn:[^:]+:sqs:([^:]*):(\d*):([^:/]+)$/;
const URL_PATH = /^\/(\d+)\/([^/]+)\/?$/;

/** Parses a queue reference; URLs and ARNs keep their own name (no prefix), a bare name gets `queueNamePrefix`. */
export function parseQueueRef(ref: string, queueNamePrefix = ''): QueueRef {
  const arn = ARN.exec(ref);
  if (arn) return { kind: 'arn', name: arn[3], arn: ref, region: arn[1], account: arn[2] };
  if (/^https?:\/\//i.test(ref)) {
    const path = URL_PATH.exec(safePath(ref));
    if (path) return { kind: 'url', name: decodeURIComponent(path[2]), url: ref };
  }
  return { kind: 'name', name: `${queueNamePrefix}${ref}` };
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}
