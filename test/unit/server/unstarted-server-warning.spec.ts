import 'reflect-metadata';
import { ConsoleLogger, Controller, Module } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { MessagingEventPattern, MessagingModule, MessagingServer } from '../../../lib/index.js';
import { MessagingTestingModule } from '../../../lib/testing/index.js';
import { UnstartedServerWarning } from '../../../lib/server/unstarted-server-warning.js';

@Controller()
class InvoicesController {
  @MessagingEventPattern('invoice-due', { queueName: 'unstarted-warning-invoices' })
  onInvoiceDue(@Payload() _invoice: unknown): void {}
}

@Module({ imports: [MessagingModule.forRoot({ transport: 'amqp', serviceName: 'invoices' })], controllers: [InvoicesController] })
class AppModule {}

class RecordingLogger extends ConsoleLogger {
  readonly warnings: string[] = [];
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
  log(): void {}
}

async function createApp(logger: RecordingLogger) {
  const moduleRef = await MessagingTestingModule.override(Test.createTestingModule({ imports: [AppModule] })).compile();
  return moduleRef.createNestApplication({ logger });
}

describe('warning when @EventPattern handlers exist but MessagingServer is never started', () => {
  it('warns once, naming the handler and the connectMicroservice call, when connectMicroservice was forgotten', async () => {
    const logger = new RecordingLogger();
    const app = await createApp(logger);
    await app.init();
    try {
      await expect(app.get(UnstartedServerWarning).settled).resolves.toBe(true);
      const warnings = logger.warnings.filter((w) => w.includes('will never receive a message'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('InvoicesController.onInvoiceDue');
      expect(warnings[0]).toContain('app.connectMicroservice({ strategy: app.get(MessagingServer) })');
    } finally {
      await app.close();
    }
  });

  it('stays silent when the strategy is started, even after the HTTP app initialised first', async () => {
    const logger = new RecordingLogger();
    const app = await createApp(logger);
    app.connectMicroservice({ strategy: app.get(MessagingServer) });
    await app.init();
    await app.startAllMicroservices();
    const server = app.get(MessagingServer);
    try {
      expect(server.isStarted).toBe(true);
      await expect(app.get(UnstartedServerWarning).settled).resolves.toBe(false);
      expect(logger.warnings.filter((w) => w.includes('will never receive a message'))).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
