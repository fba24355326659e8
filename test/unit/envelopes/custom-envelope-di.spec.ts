import 'reflect-metadata';
import { Controller, Global, Inject, Injectable, Module, type INestApplication } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import {
  MESSAGING_ENVELOPE,
  MessagingClient,
  MessagingContext,
  MessagingModule,
  MessagingRecord,
  RawEnvelope,
  type DecodedMessage,
  type EnvelopeEncodeContext,
  type MessageEnvelope,
} from '../../../lib/index.js';
import { MessagingTesting, MessagingTestingModule } from '../../../lib/testing/index.js';

/** A provider the custom envelopes inject, to prove they come out of Nest's DI with their dependencies. */
@Injectable()
class Codec {
  readonly prefix = 'v1:';
}

/** A user envelope that needs a provider: `v1:<json>`. */
@Injectable()
class PrefixedEnvelope implements MessageEnvelope {
  constructor(readonly codec: Codec) {}

  encode(data: unknown, context: EnvelopeEncodeContext): string {
    return `${this.codec.prefix}${JSON.stringify({ topic: context.topic, data })}`;
  }

  decode(body: string | Buffer): DecodedMessage {
    const text = body.toString();
    if (!text.startsWith(this.codec.prefix)) throw new Error(`not a ${this.codec.prefix} message`);
    const { topic, data } = JSON.parse(text.slice(this.codec.prefix.length));
    return { data, metadata: { topic, dataEncoding: 'prefixed' } };
  }
}

@Injectable()
class Shout {
  readonly mark = '!';
  up(text: string): string {
    return text.toUpperCase();
  }
}

/** Another user envelope, registered nowhere: resolved by creating it through DI with a provider of a global module. */
@Injectable()
class UpperEnvelope implements MessageEnvelope {
  constructor(readonly shout: Shout) {}

  encode(data: unknown): string {
    return this.shout.up(String(data));
  }

  decode(body: string | Buffer): DecodedMessage {
    return { data: `${body.toString()}${this.shout.mark}`, metadata: { dataEncoding: 'upper' } };
  }
}

@Global()
@Module({ providers: [Shout], exports: [Shout] })
class ShoutModule {}

const received: Array<{ handler: string; data: unknown; encoding?: string }> = [];

@Controller()
class ConsumerController {
  @EventPattern('module-envelope', { queueName: 'consumer' })
  onModuleEnvelope(@Payload() data: unknown, @Ctx() ctx: MessagingContext) {
    received.push({ handler: 'module-envelope', data, encoding: ctx.getEnvelope().dataEncoding });
  }

  @EventPattern('raw-override', { queueName: 'consumer', envelope: RawEnvelope })
  onRaw(@Payload() data: unknown, @Ctx() ctx: MessagingContext) {
    received.push({ handler: 'raw-override', data, encoding: ctx.getEnvelope().dataEncoding });
  }

  @EventPattern('upper-override', { queueName: 'consumer', envelope: UpperEnvelope })
  onUpper(@Payload() data: unknown, @Ctx() ctx: MessagingContext) {
    received.push({ handler: 'upper-override', data, encoding: ctx.getEnvelope().dataEncoding });
  }
}

@Module({
  imports: [ShoutModule, MessagingModule.forRoot({ transport: 'sns-sqs', serviceName: 'consumer', envelope: PrefixedEnvelope })],
  controllers: [ConsumerController],
  providers: [Codec, PrefixedEnvelope],
})
class AppModule {}

describe('custom envelopes through DI', () => {
  let app: INestApplication;
  let messaging: MessagingTesting;

  beforeAll(async () => {
    const moduleRef = await MessagingTestingModule.override(Test.createTestingModule({ imports: [AppModule] })).compile();
    app = moduleRef.createNestApplication({ logger: false });
    messaging = await MessagingTesting.start(app);
  });

  afterAll(() => app.close());

  beforeEach(() => received.splice(0));

  it("provides the module envelope as the app's own PrefixedEnvelope provider, with its injected dependency", () => {
    const envelope = app.get<MessageEnvelope>(MESSAGING_ENVELOPE);
    expect(envelope).toBeInstanceOf(PrefixedEnvelope);
    expect((envelope as PrefixedEnvelope).codec).toBe(app.get(PrefixedEnvelope).codec);
    expect((envelope as PrefixedEnvelope).codec).toBeInstanceOf(Codec);
  });

  it('emit encodes with the module envelope', async () => {
    await lastValueFrom(app.get(MessagingClient).emit('module-envelope', { n: 1 }));
    expect(messaging.emitted().at(-1)).toMatchObject({
      topic: 'module-envelope',
      body: 'v1:{"topic":"module-envelope","data":{"n":1}}',
      data: { n: 1 },
    });
  });

  it('a handler without an envelope extra decodes with the module envelope', async () => {
    const result = await messaging.publish('module-envelope', { n: 2 });
    expect(result).toMatchObject({ outcome: 'success', deliveries: [{ queue: 'consumer', outcome: 'success' }] });
    expect(received).toEqual([{ handler: 'module-envelope', data: { n: 2 }, encoding: 'prefixed' }]);
  });

  it("a body the module envelope cannot read is dead-lettered with the envelope's reason", async () => {
    const result = await messaging.publishBody('module-envelope', '{"n":3}');
    expect(result).toMatchObject({ outcome: 'dead-letter', reason: 'cannot decode message: not a v1: message' });
    expect(received).toEqual([]);
  });

  it('a per-handler envelope extra overrides the module envelope (RawEnvelope)', async () => {
    const result = await messaging.publishBody('raw-override', 'v1:not decoded');
    expect(result.outcome).toBe('success');
    expect(received).toEqual([{ handler: 'raw-override', data: 'v1:not decoded', encoding: undefined }]);
  });

  it('a per-handler envelope class registered nowhere is created through DI with its (global) dependency', async () => {
    const result = await messaging.publishBody('upper-override', 'hey');
    expect(result.outcome).toBe('success');
    expect(received).toEqual([{ handler: 'upper-override', data: 'hey!', encoding: 'upper' }]);
  });

  it('a per-emit envelope overrides the module envelope on the publishing side', async () => {
    await lastValueFrom(app.get(MessagingClient).emit('upper-override', new MessagingRecord('quiet', { envelope: UpperEnvelope })));
    expect(messaging.emitted('upper-override').at(-1)).toMatchObject({ body: 'QUIET' });
  });
});

/** An envelope provider whose dependency comes from an async factory (as with ConfigService): it is created late. */
@Injectable()
class LateEnvelope implements MessageEnvelope {
  constructor(@Inject('ENVELOPE_KEY') readonly key: string) {}

  encode(data: unknown): string {
    return `${this.key}${String(data)}`;
  }

  decode(body: string | Buffer): DecodedMessage {
    return { data: body.toString().slice(this.key.length), metadata: {} };
  }
}

@Module({
  imports: [MessagingModule.forRoot({ transport: 'amqp', serviceName: 'late', envelope: LateEnvelope })],
  providers: [
    {
      provide: 'ENVELOPE_KEY',
      useFactory: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return 'key:';
      },
    },
    LateEnvelope,
  ],
})
class LateAppModule {}

describe('custom envelope provider that Nest instantiates after the messaging module', () => {
  it('is used fully constructed by emit (not as a placeholder without its dependencies)', async () => {
    const moduleRef = await MessagingTestingModule.override(Test.createTestingModule({ imports: [LateAppModule] })).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      expect(app.get<LateEnvelope>(MESSAGING_ENVELOPE).key).toBe('key:');
      await lastValueFrom(app.get(MessagingClient).emit('t', 'payload'));
      expect(
        MessagingTesting.of(app)
          .emitted()
          .map((m) => [m.body, m.data]),
      ).toEqual([['key:payload', 'payload']]);
    } finally {
      await app.close();
    }
  });
});

@Module({
  imports: [MessagingModule.forRoot({ transport: 'amqp', serviceName: 'unreachable', envelope: PrefixedEnvelope })],
  providers: [Codec],
})
class UnreachableDependencyModule {}

describe('custom envelope whose dependency the messaging module cannot reach', () => {
  it('fails at startup with an error naming the envelope and how to register it', async () => {
    const compiling = MessagingTestingModule.override(Test.createTestingModule({ imports: [UnreachableDependencyModule] })).compile();
    await expect(compiling).rejects.toThrow(/Cannot create envelope PrefixedEnvelope .*Register PrefixedEnvelope as a provider/s);
  });
});
