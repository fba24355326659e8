/**
 * Whether a queue policy lets SNS topic `topicArn` send to the queue: an Allow statement for sqs:SendMessage (or
 * sqs:* / *) from sns.amazonaws.com (or *), with no aws:SourceArn condition or one that names the topic (ArnEquals,
 * ArnLike with * and ? wildcards, StringEquals, StringLike). Statements that Deny are not evaluated: a policy written
 * by hand with Deny rules is beyond what startup can judge.
 */
export function policyAllowsTopic(policyJson: string | undefined, topicArn: string): boolean {
  return allowStatements(policyJson).some((statement) => allowsSend(statement) && fromSns(statement) && sourceMatches(statement, topicArn));
}

/** The aws:SourceArn values the policy allows SendMessage from, for an error message. */
export function allowedSources(policyJson: string | undefined): string[] {
  return allowStatements(policyJson)
    .filter((s) => allowsSend(s) && fromSns(s))
    .flatMap((s) => sourceConditions(s) ?? ['(any source)']);
}

type Statement = Record<string, unknown>;

function allowStatements(policyJson: string | undefined): Statement[] {
  if (!policyJson) return [];
  try {
    const policy = JSON.parse(policyJson) as { Statement?: unknown };
    const statements = Array.isArray(policy.Statement) ? policy.Statement : policy.Statement ? [policy.Statement] : [];
    return (statements as Statement[]).filter((s) => s && s.Effect === 'Allow');
  } catch {
    return [];
  }
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]);

function allowsSend(statement: Statement): boolean {
  return list(statement.Action).some((a) => ['sqs:sendmessage', 'sqs:*', '*'].includes(a.toLowerCase()));
}

function fromSns(statement: Statement): boolean {
  const principal = statement.Principal;
  if (principal === '*') return true;
  if (principal && typeof principal === 'object') {
    const p = principal as Record<string, unknown>;
    return list(p.Service).includes('sns.amazonaws.com') || list(p.AWS).includes('*');
  }
  return false;
}

/** The SourceArn values of the statement's conditions; undefined when it has no SourceArn condition. */
function sourceConditions(statement: Statement): string[] | undefined {
  const condition = statement.Condition as Record<string, Record<string, unknown>> | undefined;
  if (!condition) return undefined;
  const values: string[] = [];
  let found = false;
  for (const operator of ['ArnEquals', 'ArnLike', 'StringEquals', 'StringLike']) {
    const block = condition[operator];
    if (!block) continue;
    for (const [key, value] of Object.entries(block)) {
      if (key.toLowerCase() !== 'aws:sourcearn') continue;
      found = true;
      values.push(...list(value));
    }
  }
  return found ? values : undefined;
}

function sourceMatches(statement: Statement, topicArn: string): boolean {
  const sources = sourceConditions(statement);
  if (sources === undefined) return true;
  return sources.some((pattern) => wildcard(pattern).test(topicArn));
}

function wildcard(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}
