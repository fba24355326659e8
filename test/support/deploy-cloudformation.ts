import { CreateTopicCommand, SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CloudFormationTemplate } from '../../lib/index.js';

type Resource = CloudFormationTemplate['Resources'][string];
/** What a created resource answers to `Ref` and `Fn::GetAtt [id, 'Arn']`. */
interface Created {
  ref: string;
  arn: string;
}

/**
 * A stand-in for CloudFormation: creates what the template declares (AWS::SNS::Topic, AWS::SQS::Queue,
 * AWS::SQS::QueuePolicy, AWS::SNS::Subscription) with the equivalent SNS/SQS calls, resolving Ref and Fn::GetAtt
 * by creating the referenced resource first. Fails on a resource type or property it does not know.
 */
export async function deployCloudFormation(template: CloudFormationTemplate, clients: { sns: SNSClient; sqs: SQSClient }): Promise<void> {
  const created = new Map<string, Promise<Created>>();
  const create = (id: string): Promise<Created> => {
    let done = created.get(id);
    if (!done) {
      const resource = template.Resources[id];
      if (!resource) throw new Error(`The template references ${id}, which it does not declare`);
      done = createResource(resource);
      created.set(id, done);
    }
    return done;
  };
  const resolve = async (value: unknown): Promise<unknown> => {
    if (Array.isArray(value)) return Promise.all(value.map(resolve));
    if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if (typeof o.Ref === 'string') return (await create(o.Ref)).ref;
      if (Array.isArray(o['Fn::GetAtt'])) {
        const [id, attribute] = o['Fn::GetAtt'] as [string, string];
        if (attribute !== 'Arn') throw new Error(`Fn::GetAtt ${attribute} is not supported`);
        return (await create(id)).arn;
      }
      return Object.fromEntries(await Promise.all(Object.entries(o).map(async ([k, v]) => [k, await resolve(v)])));
    }
    return value;
  };
  const tags = (list: unknown) => (list as Array<{ Key: string; Value: string }> | undefined) ?? [];

  async function createResource({ Type, Properties, DependsOn = [] }: Resource): Promise<Created> {
    for (const id of DependsOn) await create(id);
    const props = (await resolve(Properties)) as Record<string, any>;
    switch (Type) {
      case 'AWS::SNS::Topic': {
        const { TopicName, FifoTopic, KmsMasterKeyId, Tags, ...rest } = props;
        expectNothingElse(Type, rest);
        const Attributes: Record<string, string> = {};
        if (FifoTopic) Attributes.FifoTopic = 'true';
        if (KmsMasterKeyId) Attributes.KmsMasterKeyId = KmsMasterKeyId;
        const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: TopicName, Attributes, Tags: tags(Tags) }));
        return { ref: TopicArn!, arn: TopicArn! };
      }
      case 'AWS::SQS::Queue': {
        const { QueueName, Tags, RedrivePolicy, ...attributes } = props;
        const Attributes: Record<string, string> = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, String(v)]));
        if (RedrivePolicy) Attributes.RedrivePolicy = JSON.stringify(RedrivePolicy);
        const tagMap = Object.fromEntries(tags(Tags).map((t) => [t.Key, t.Value]));
        const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName, Attributes, tags: tagMap }));
        const { Attributes: found } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
        return { ref: QueueUrl!, arn: found!.QueueArn! };
      }
      case 'AWS::SQS::QueuePolicy': {
        const { Queues, PolicyDocument, ...rest } = props;
        expectNothingElse(Type, rest);
        for (const QueueUrl of Queues as string[])
          await clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: JSON.stringify(PolicyDocument) } }));
        return { ref: 'policy', arn: '' };
      }
      case 'AWS::SNS::Subscription': {
        const { TopicArn, Protocol, Endpoint, RawMessageDelivery, FilterPolicy, FilterPolicyScope, ...rest } = props;
        expectNothingElse(Type, rest);
        const Attributes: Record<string, string> = { RawMessageDelivery: String(RawMessageDelivery ?? false) };
        if (FilterPolicy !== undefined) Attributes.FilterPolicy = JSON.stringify(FilterPolicy);
        if (FilterPolicyScope !== undefined) Attributes.FilterPolicyScope = FilterPolicyScope;
        const { SubscriptionArn } = await clients.sns.send(
          new SubscribeCommand({ TopicArn, Protocol, Endpoint, Attributes, ReturnSubscriptionArn: true }),
        );
        return { ref: SubscriptionArn!, arn: SubscriptionArn! };
      }
      default:
        throw new Error(`deployCloudFormation does not know resource type ${Type}`);
    }
  }

  for (const id of Object.keys(template.Resources)) await create(id);
}

function expectNothingElse(type: string, rest: Record<string, unknown>): void {
  if (Object.keys(rest).length > 0)
    throw new Error(`deployCloudFormation does not know ${type} properties ${Object.keys(rest).join(', ')}`);
}
