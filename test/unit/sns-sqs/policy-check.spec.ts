import { allowedSources, policyAllowsTopic } from '../../../lib/sns-sqs/policy-check.js';
import { queuePolicy } from '../../../lib/sns-sqs/policy.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:prod-order-paid';
const QUEUE = 'arn:aws:sqs:eu-west-1:123456789012:billing';
const policy = (statement: Record<string, unknown>) => JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
const allow = { Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: QUEUE };

describe('policyAllowsTopic: what verify accepts as a queue policy letting the topic send', () => {
  it("accepts the library's own policy, alone or merged with other topics", () => {
    expect(policyAllowsTopic(queuePolicy(QUEUE, [TOPIC]), TOPIC)).toBe(true);
    expect(policyAllowsTopic(queuePolicy(QUEUE, [TOPIC, `${TOPIC}-2`]), TOPIC)).toBe(true);
  });

  it('accepts ArnLike wildcards, sqs:*, a single Statement object and a statement without a SourceArn condition', () => {
    expect(
      policyAllowsTopic(
        policy({ ...allow, Action: ['sqs:*'], Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:sns:eu-west-1:123456789012:prod-*' } } }),
        TOPIC,
      ),
    ).toBe(true);
    expect(
      policyAllowsTopic(JSON.stringify({ Statement: { ...allow, Condition: { ArnEquals: { 'aws:SourceArn': TOPIC } } } }), TOPIC),
    ).toBe(true);
    expect(policyAllowsTopic(policy(allow), TOPIC)).toBe(true);
  });

  it('refuses another topic, another action, another principal, Deny, no policy and broken JSON', () => {
    expect(policyAllowsTopic(policy({ ...allow, Condition: { ArnEquals: { 'aws:SourceArn': `${TOPIC}-other` } } }), TOPIC)).toBe(false);
    expect(policyAllowsTopic(policy({ ...allow, Action: 'sqs:ReceiveMessage' }), TOPIC)).toBe(false);
    expect(policyAllowsTopic(policy({ ...allow, Principal: { Service: 'events.amazonaws.com' } }), TOPIC)).toBe(false);
    expect(policyAllowsTopic(policy({ ...allow, Effect: 'Deny' }), TOPIC)).toBe(false);
    expect(policyAllowsTopic(undefined, TOPIC)).toBe(false);
    expect(policyAllowsTopic('{not json', TOPIC)).toBe(false);
  });

  it('allowedSources lists what the policy does allow, for the error message', () => {
    expect(allowedSources(queuePolicy(QUEUE, [TOPIC, `${TOPIC}-2`])).sort()).toEqual([TOPIC, `${TOPIC}-2`]);
    expect(allowedSources(policy(allow))).toEqual(['(any source)']);
  });
});
