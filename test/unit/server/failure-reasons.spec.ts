import 'reflect-metadata';
import {
  Catch,
  Controller,
  Module,
  UseFilters,
  ValidationPipe,
  type ArgumentsHost,
  type ExceptionFilter,
  type INestApplication,
} from '@nestjs/common';
import { Payload, RpcException } from '@nestjs/microservices';
import { IsString } from 'class-validator';
import { of, throwError } from 'rxjs';
import { MessagingEventPattern, MessagingModule } from '../../../lib/index.js';
import { MessagingTesting } from '../../../lib/testing/index.js';
import { startOnTestingKit } from '../../support/testing-kit.js';

class Refund {
  @IsString() orderId!: string;
}

/** A user filter that rewrites one error into its own RpcException. */
@Catch(TypeError)
class TypeErrorToRpc implements ExceptionFilter {
  catch(exception: TypeError, _host: ArgumentsHost) {
    return throwError(() => new RpcException(`mapped by the filter: ${exception.message}`).getError());
  }
}

/** A user filter that decides a failure is fine: the message counts as handled. */
@Catch(RangeError)
class SwallowRangeError implements ExceptionFilter {
  catch() {
    return of(undefined);
  }
}

@Controller()
class LedgerController {
  @MessagingEventPattern('ledger-error', { queueName: 'reasons' })
  onError(): void {
    throw new Error('ledger down');
  }

  @MessagingEventPattern('ledger-string', { queueName: 'reasons' })
  onString(): void {
    throw 'plain string thrown';
  }

  @MessagingEventPattern('ledger-object', { queueName: 'reasons' })
  async onObject(): Promise<void> {
    throw { code: 'E_LEDGER', retryable: true };
  }

  @MessagingEventPattern('ledger-validated', { queueName: 'reasons' })
  onValidated(@Payload(new ValidationPipe()) _refund: Refund): void {}

  @UseFilters(new TypeErrorToRpc(), new SwallowRangeError())
  @MessagingEventPattern('ledger-filtered', { queueName: 'reasons' })
  onFiltered(@Payload() data: { kind: string }): void {
    if (data.kind === 'type') throw new TypeError('bad type');
    throw new RangeError('out of range, but fine');
  }
}

@Module({ imports: [MessagingModule.forRoot({ transport: 'sns-sqs', serviceName: 'ledger' })], controllers: [LedgerController] })
class AppModule {}

describe('a failed handler keeps its own reason', () => {
  let app: INestApplication;
  let messaging: MessagingTesting;

  beforeAll(async () => {
    ({ app, messaging } = await startOnTestingKit(AppModule));
  });

  afterAll(() => app.close());

  /** The settled outcome of one delivery, in the dispatcher's terms. */
  const deliver = async (topic: string, data: unknown = {}) => {
    const result = await messaging.publish(topic, data, { queue: 'reasons' });
    return result.outcome === 'success' ? { kind: 'ack' } : { kind: result.outcome, reason: result.reason };
  };

  it('an Error: its message, not Nest\'s "Internal server error"', async () => {
    expect(await deliver('ledger-error')).toEqual({ kind: 'retry', reason: 'handler for "ledger-error" failed: ledger down' });
  });

  it('a thrown string or plain object: a readable description', async () => {
    expect(await deliver('ledger-string')).toEqual({ kind: 'retry', reason: 'handler for "ledger-string" failed: plain string thrown' });
    expect(await deliver('ledger-object')).toEqual({
      kind: 'retry',
      reason: 'handler for "ledger-object" failed: {"code":"E_LEDGER","retryable":true}',
    });
  });

  it("a plain ValidationPipe's BadRequestException: the validation messages", async () => {
    expect(await deliver('ledger-validated', { orderId: 7 })).toEqual({
      kind: 'retry',
      reason: 'handler for "ledger-validated" failed: orderId must be a string',
    });
  });

  it('user exception filters keep working: a rewritten error is reported as rewritten, a swallowed one is handled', async () => {
    expect(await deliver('ledger-filtered', { kind: 'type' })).toEqual({
      kind: 'retry',
      reason: 'handler for "ledger-filtered" failed: mapped by the filter: bad type',
    });
    expect(await deliver('ledger-filtered', { kind: 'range' })).toEqual({ kind: 'ack' });
  });
});
