/**
 * The queue policy that lets exactly `topicArns` send to the queue (SNS fan-out), as tomodachi sets it. `id` becomes the
 * policy's `Id`: provisioning 'create' keeps its fingerprint there (see queueFingerprint).
 */
export function queuePolicy(queueArn: string, topicArns: readonly string[], id?: string): string {
  const sources = [...new Set(topicArns)].sort();
  return JSON.stringify({
    Version: '2012-10-17',
    ...(id !== undefined ? { Id: id } : {}),
    Statement: [
      {
        Sid: 'nestjs-messaging-sns-fanout',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': sources.length === 1 ? sources[0] : sources } },
      },
    ],
  });
}

/**
 * The statement a topic's owner adds to the topic policy so that the account of `queueArn` may subscribe that queue
 * (and only that queue) to `topicArn`: what a refused cross-account subscribe asks for.
 */
export function subscribeGrant(topicArn: string, queueArn: string): string {
  const [, partition, , , account] = queueArn.split(':');
  return JSON.stringify({
    Sid: `AllowSqsSubscribeFrom${account}`,
    Effect: 'Allow',
    Principal: { AWS: `arn:${partition}:iam::${account}:root` },
    Action: 'sns:Subscribe',
    Resource: topicArn,
    Condition: { StringEquals: { 'sns:Protocol': 'sqs', 'sns:Endpoint': queueArn } },
  });
}

/** The `Id` of a policy document; undefined when it has none or is no JSON. */
export function policyId(policy: string | undefined): string | undefined {
  if (!policy) return undefined;
  try {
    const id = (JSON.parse(policy) as { Id?: unknown }).Id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Compares two JSON documents (policies, redrive and filter policies) ignoring key order and number-vs-string. */
export function sameJson(a: string | undefined, b: string | undefined): boolean {
  const left = canonical(a);
  const right = canonical(b);
  return left === right;
}

function canonical(text: string | undefined): string {
  if (text === undefined || text === '') return '';
  try {
    return JSON.stringify(normalize(JSON.parse(text)));
  } catch {
    return text;
  }
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalize);
    return items.every((i) => typeof i === 'string') ? [...(items as string[])].sort() : items;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, normalize((value as Record<string, unknown>)[k])]),
    );
  }
  if (typeof value === 'number') return String(value);
  return value;
}
