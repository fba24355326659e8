import 'reflect-metadata';
import {
  Catch,
  Controller,
  Injectable,
  Module,
  UseFilters,
  UseGuards,
  UseInterceptors,
  ValidationPipe,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
} from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { IsInt, IsString, Min } from 'class-validator';
import { lastValueFrom, of, tap, type Observable } from 'rxjs';
import {
  MessagingClient,
  MessagingContext,
  MessagingModule,
  MessagingRecord,
  MessagingServer,
  MessagingValidationPipe,
} from '../../../lib/index.js';
import { startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

class OrderPaid {
  @IsString() orderId!: string;
  @IsInt() @Min(1) amount!: number;
}

const events: string[] = [];

@Injectable()
class Settings {
  constructor(
    readonly endpoint: string,
    readonly prefix: string,
  ) {}
}

@Injectable()
class TimingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const topic = context.switchToRpc().getContext<MessagingContext>().getTopic();
    events.push(`interceptor:before:${topic}`);
    return next.handle().pipe(tap(() => events.push(`interceptor:after:${topic}`)));
  }
}

@Injectable()
class TenantGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToRpc().getContext<MessagingContext>().getAttributes().tenant === 'acme';
  }
}

class KnownGlitch extends Error {}

/** An exception filter that treats a known, harmless failure as handled: the message is then deleted. */
@Catch(KnownGlitch)
class IgnoreKnownGlitch implements ExceptionFilter {
  catch(error: KnownGlitch, _host: ArgumentsHost): Observable<unknown> {
    events.push(`filter:${error.message}`);
    return of(undefined);
  }
}

@Controller()
class BillingController {
  @UseInterceptors(TimingInterceptor)
  @EventPattern('order-paid', { queueName: 'paid' })
  paid(@Payload(new MessagingValidationPipe()) order: OrderPaid, @Ctx() ctx: MessagingContext) {
    events.push(`paid:${order.orderId}:${order instanceof OrderPaid}:${ctx.getReceiveCount()}`);
  }

  @EventPattern('order-checked', { queueName: 'checked', maxReceiveCount: 2 })
  checked(@Payload(new ValidationPipe()) order: OrderPaid) {
    events.push(`checked:${order.orderId}`);
  }

  @UseGuards(TenantGuard)
  @EventPattern('order-guarded', { queueName: 'guarded', maxReceiveCount: 2 })
  guarded(@Payload() order: { orderId: string }) {
    events.push(`guarded:${order.orderId}`);
  }

  @UseFilters(IgnoreKnownGlitch)
  @EventPattern('order-glitchy', { queueName: 'glitchy' })
  glitchy(@Payload() order: { orderId: string }) {
    throw new KnownGlitch(order.orderId);
  }
}

describe('Nest features on SNS+SQS handlers: forRootAsync, pipes, guards, interceptors, exception filters', () => {
  let fauxqs: Fauxqs;
  let app: INestApplication;
  let prefix: string;

  beforeAll(async () => {
    fauxqs = await startFauxqs();
    prefix = `${uniqueName('nest')}-`;
    @Module({ providers: [{ provide: Settings, useFactory: () => new Settings(fauxqs.endpoint, prefix) }], exports: [Settings] })
    class SettingsModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        MessagingModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (settings: Settings) => ({
            transport: 'sns-sqs',
            serviceName: 'billing',
            topicPrefix: settings.prefix,
            queueNamePrefix: settings.prefix,
            retryBackoff: 0,
            snsSqs: { ...fauxqs.snsSqs, endpoint: settings.endpoint },
          }),
        }),
      ],
      controllers: [BillingController],
      providers: [TimingInterceptor, TenantGuard],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
    await app.startAllMicroservices();
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await fauxqs?.stop();
  });

  beforeEach(() => events.splice(0));

  const emit = (topic: string, data: unknown, attributes: Record<string, string> = {}) =>
    lastValueFrom(app.get(MessagingClient).emit(topic, new MessagingRecord(data, { attributes })), { defaultValue: undefined });

  async function deadLetters(queue: string): Promise<Array<{ body: string; reason?: string }>> {
    const { QueueUrl } = await fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: `${prefix}${queue}-dlq` }));
    const { Messages = [] } = await fauxqs.sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }),
    );
    return Messages.map((m) => ({ body: m.Body ?? '', reason: m.MessageAttributes?.dead_letter_reason?.StringValue }));
  }

  it('options come from DI (forRootAsync) and the interceptor wraps a handler whose payload the pipe transformed', async () => {
    await emit('order-paid', { orderId: 'o-1', amount: 5 });
    await waitFor(() => events.includes('interceptor:after:order-paid'), { what: 'the handled message' });
    expect(events).toEqual(['interceptor:before:order-paid', 'paid:o-1:true:1', 'interceptor:after:order-paid']);
  });

  it('MessagingValidationPipe sends an invalid payload to the dead-letter queue at once, with the constraint as reason', async () => {
    await emit('order-paid', { orderId: 'o-2', amount: 0 });
    const [letter] = await waitFor(
      async () => {
        const found = await deadLetters('paid');
        return found.length > 0 ? found : undefined;
      },
      { what: 'the dead letter' },
    );
    expect(letter.reason).toBe('handler rejected the message: payload failed validation: amount must not be less than 1');
    expect(events.filter((e) => e.startsWith('paid:'))).toEqual([]);
  });

  it('a plain ValidationPipe failure is retried, then dead-lettered after maxReceiveCount', async () => {
    await emit('order-checked', { orderId: 'o-3', amount: -1 });
    const [letter] = await waitFor(
      async () => {
        const found = await deadLetters('checked');
        return found.length > 0 ? found : undefined;
      },
      { what: 'the dead letter' },
    );
    expect(letter.reason).toMatch(/^failed 2 time\(s\)/);
  });

  it('a guard that refuses a message keeps it from the handler (retried, then dead-lettered); an allowed one is handled', async () => {
    await emit('order-guarded', { orderId: 'o-4' }, { tenant: 'acme' });
    await emit('order-guarded', { orderId: 'o-5' }, { tenant: 'other' });
    await waitFor(() => events.includes('guarded:o-4'), { what: 'the allowed message' });
    const [letter] = await waitFor(
      async () => {
        const found = await deadLetters('guarded');
        return found.length > 0 ? found : undefined;
      },
      { what: 'the refused message in the DLQ' },
    );
    expect(JSON.parse(JSON.parse(letter.body).Message).data).toEqual({ orderId: 'o-5' });
    expect(events).not.toContain('guarded:o-5');
  });

  it('an exception filter that handles the error makes the message count as done (deleted, not retried)', async () => {
    await emit('order-glitchy', { orderId: 'o-6' });
    await waitFor(() => events.includes('filter:o-6'), { what: 'the filter' });
    const { QueueUrl } = await fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: `${prefix}glitchy` }));
    await waitFor(
      async () => {
        const { Attributes = {} } = await fauxqs.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return Attributes.ApproximateNumberOfMessages === '0' && Attributes.ApproximateNumberOfMessagesNotVisible === '0';
      },
      { what: 'the queue to be empty' },
    );
    expect(events.filter((e) => e === 'filter:o-6')).toEqual(['filter:o-6']);
  });
});
