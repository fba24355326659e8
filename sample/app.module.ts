import { Module, type DynamicModule } from '@nestjs/common';
import { MessagingModule, type TransportName } from '../lib/index.js';
import { BillingController } from './billing/billing.controller.js';
import { OrdersService } from './orders/orders.service.js';
import { SampleLog } from './sample-log.js';

export interface SampleSettings {
  transport: TransportName;
  awsEndpoint?: string;
  amqpUrl: string;
  runId: string;
}

@Module({})
export class AppModule {
  static register(settings: SampleSettings): DynamicModule {
    return {
      module: AppModule,
      imports: [
        MessagingModule.forRoot({
          transport: settings.transport,
          serviceName: 'billing',
          topicPrefix: `sample-${settings.runId}-`,
          queueNamePrefix: `sample-${settings.runId}-`,
          retryBackoff: 0.2,
          drainTimeout: 5_000,
          snsSqs: { endpoint: settings.awsEndpoint, waitTimeSeconds: 1 },
          amqp: { url: settings.amqpUrl },
        }),
      ],
      controllers: [BillingController],
      providers: [OrdersService, SampleLog],
    };
  }
}
