import type { DynamicModule } from '@nestjs/common';
import { BehaviorSubject } from 'rxjs';
import { MessagingError } from '../errors.js';
import type { Broker, BrokerStatus } from '../transport/broker.js';

/**
 * A broker that performs no I/O, for describing an app's topology without a broker connection: it validates
 * nothing and refuses every call that would reach a broker.
 */
export class NoIoBroker implements Broker {
  readonly status$ = new BehaviorSubject<BrokerStatus>('disconnected');

  validate(): void {}

  provision(): Promise<void> {
    return this.refuse('provision');
  }

  consume(): Promise<void> {
    return this.refuse('consume');
  }

  stopConsuming(): Promise<void> {
    return Promise.resolve();
  }

  publish(): Promise<void> {
    return this.refuse('publish');
  }

  close(): Promise<void> {
    this.status$.complete();
    return Promise.resolve();
  }

  unwrap(): unknown {
    throw new MessagingError('This broker only describes the topology; it has no clients to unwrap');
  }

  private refuse(what: string): Promise<never> {
    return Promise.reject(new MessagingError(`Cannot ${what}: this broker only describes the topology and makes no broker calls`));
  }
}

/**
 * Makes each MessagingModule import (the unnamed one and every named one, as findMessagingModules found them) provide a
 * NoIoBroker of its own in place of its broker; call it before the app is created.
 */
export function provideNoIoBrokers(imports: readonly { dynamic: DynamicModule; brokerToken: symbol }[]): void {
  for (const { dynamic, brokerToken } of imports)
    dynamic.providers = [...(dynamic.providers ?? []), { provide: brokerToken, useValue: new NoIoBroker() }];
}
