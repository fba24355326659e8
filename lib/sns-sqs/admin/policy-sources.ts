/** The topic ARNs a queue policy lets send to the queue (`aws:SourceArn` of its ArnEquals / ArnLike conditions). */
export function policySources(policy: string | undefined): string[] {
  if (!policy) return [];
  let document: { Statement?: unknown };
  try {
    document = JSON.parse(policy) as { Statement?: unknown };
  } catch {
    return [];
  }
  const statements = Array.isArray(document.Statement) ? document.Statement : document.Statement ? [document.Statement] : [];
  const sources = new Set<string>();
  for (const statement of statements as Array<{ Condition?: Record<string, Record<string, unknown>> }>) {
    for (const operator of ['ArnEquals', 'ArnLike']) {
      const value = statement?.Condition?.[operator]?.['aws:SourceArn'];
      for (const arn of Array.isArray(value) ? value : [value]) if (typeof arn === 'string') sources.add(arn);
    }
  }
  return [...sources].sort();
}
